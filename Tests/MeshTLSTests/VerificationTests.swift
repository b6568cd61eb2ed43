import MeshTLS
import MeshTestSupport
import Testing

@Suite struct VerificationTests {
    @Test func unknownCAIsRejectedByTheClient() throws {
        let pair = try Handshake(
            client: try Fixture.client(ca: "rogue-ca"), server: try Fixture.server(), name: "a.example.com")
        #expect(pair.clientResult == .failed(.peerCertificateRejected("unable to get local issuer certificate")))
        #expect(pair.serverResult == .failed(.alertReceived("unknown ca")))
    }

    @Test func wrongNameIsRejectedByTheClient() throws {
        let server = try Fixture.server(["a"])
        let pair = try Handshake(client: try Fixture.client(), server: server, name: "b.example.com")
        #expect(pair.clientResult == .failed(.peerCertificateRejected("hostname mismatch")))
    }

    @Test func expiredServerCertificateIsRejectedByTheClient() throws {
        // Loaded as of its own validity window (a server must never do this; the pair check is what stops it).
        let expired = try Fixture.pair("expired", now: 1_578_000_000)
        let server = try TLSServerContext(certificates: [expired])
        let pair = try Handshake(client: try Fixture.client(), server: server, name: "a.example.com")
        #expect(pair.clientResult == .failed(.peerCertificateRejected("certificate has expired")))
    }

    @Test func systemStoreDoesNotTrustTheTestCA() throws {
        let client = try TLSClientContext(options: TLSClientOptions())
        let pair = try Handshake(client: client, server: try Fixture.server(), name: "a.example.com")
        #expect(pair.clientResult == .failed(.peerCertificateRejected("unable to get local issuer certificate")))
    }

    // MARK: - Loading

    @Test func loadErrorsNameTheFileAndTheReason() throws {
        let pki = Fixture.pki
        let now = Fixture.wallClock()
        func error(_ cert: String, _ key: String) -> TLSLoadError? {
            do {
                _ = try CertificatePair(certFile: pki.path(cert), keyFile: pki.path(key), now: now)
                return nil
            } catch { return error }
        }
        #expect(error("missing.crt", "a.key")?.file == pki.path("missing.crt"))
        #expect(error("missing.crt", "a.key")?.reason == .unreadable("No such file or directory"))
        #expect(error("a.crt", "missing.key")?.reason == .unreadable("No such file or directory"))
        #expect(error("garbage.pem", "a.key")?.reason == .noCertificate)
        #expect(error("a.crt", "garbage.pem")?.reason == .noPrivateKey)
        #expect(error("a.crt", "b.key") == TLSLoadError(file: pki.path("b.key"), reason: .keyDoesNotMatchCertificate))
        #expect(
            error("expired.crt", "expired.key")
                == TLSLoadError(file: pki.path("expired.crt"), reason: .expired(notAfter: 1_580_515_200)))
        #expect(
            error("future.crt", "future.key")
                == TLSLoadError(file: pki.path("future.crt"), reason: .notYetValid(notBefore: 3_786_912_000)))
        #expect(error("a.crt", "b.key")?.description == pki.path("b.key") + ": key does not match certificate")
    }

    @Test func unreadableFileSaysWhy() throws {
        let path = Fixture.pki.path("a.key")
        // A directory is unreadable as a file: read(2) fails with EISDIR.
        #expect(throws: TLSLoadError(file: Fixture.pki.directory, reason: .unreadable("Is a directory"))) {
            _ = try CertificatePair(certFile: Fixture.pki.directory, keyFile: path, now: Fixture.wallClock())
        }
    }
}
