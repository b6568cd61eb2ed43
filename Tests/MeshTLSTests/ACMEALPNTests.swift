import MeshTLS
import MeshTestSupport
import Testing

/// RFC 8737 tls-alpn-01 on a listener's context: a ClientHello offering `acme-tls/1` for a domain with a challenge
/// certificate gets that certificate and protocol; for any other name it fails; ordinary clients are unaffected.
@Suite struct ACMEALPNTests {
    /// A self-signed certificate for `acme.example.test` made by the openssl CLI (the challenge stand-in).
    static func challengePair() throws -> (directory: String, certificate: String, key: String) {
        let directory = try GatewayProcess.makeTempDirectory()
        let made = try Tool.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            directory + "/c.key", "-out", directory + "/c.crt", "-days", "1", "-subj", "/CN=acme.example.test",
            "-addext", "subjectAltName=DNS:acme.example.test",
        ])
        #expect(made.exitCode == 0, "\(made.stderr)")
        return (directory, directory + "/c.crt", directory + "/c.key")
    }

    static func server(_ challenges: ACMEChallengeCertificates) throws -> TLSServerContext {
        try Fixture.server(["a"]) { $0.acmeChallenges = challenges }
    }

    @Test func acmeTLS1GetsTheChallengeCertificateAndProtocol() throws {
        let pair = try Self.challengePair()
        defer { GatewayProcess.removeDirectory(pair.directory) }
        let challenges = ACMEChallengeCertificates()
        try challenges.install(
            domain: "ACME.example.test", certificatePEM: Array(ChildProcess.readFile(pair.certificate).utf8),
            keyPEM: Array(ChildProcess.readFile(pair.key).utf8))
        let context = try Self.server(challenges)
        // The validator trusts only the challenge certificate: the handshake succeeds only if it is the one served.
        let validator = try TLSClientContext(
            options: {
                var options = TLSClientOptions()
                options.caFile = pair.certificate
                options.alpn = ["acme-tls/1"]
                return options
            }())
        let client = try TLSConnection(client: validator, serverName: "acme.example.test", handshakeDeadlineMs: noDeadline)
        let server = try TLSConnection(server: context, handshakeDeadlineMs: noDeadline)
        let results = pump(client, server)
        #expect(results.client == .done && results.server == .done, "\(results)")
        #expect(server.negotiatedProtocol == "acme-tls/1")
        // Withdrawn: the same ClientHello now fails.
        challenges.remove(domain: "acme.example.test")
        let again = try TLSConnection(client: validator, serverName: "acme.example.test", handshakeDeadlineMs: noDeadline)
        let refused = pump(again, try TLSConnection(server: context, handshakeDeadlineMs: noDeadline))
        guard case .failed = refused.server else {
            Issue.record("expected a failed handshake, got \(refused)")
            return
        }
    }

    @Test func otherNamesAndOrdinaryClientsAreUnaffected() throws {
        let pair = try Self.challengePair()
        defer { GatewayProcess.removeDirectory(pair.directory) }
        let challenges = ACMEChallengeCertificates()
        try challenges.install(
            domain: "acme.example.test", certificatePEM: Array(ChildProcess.readFile(pair.certificate).utf8),
            keyPEM: Array(ChildProcess.readFile(pair.key).utf8))
        let context = try Self.server(challenges)
        // acme-tls/1 for a name without a challenge: no certificate of ours is handed out for it.
        let validator = try Fixture.client { $0.alpn = ["acme-tls/1"] }
        let probe = try TLSConnection(client: validator, serverName: "a.example.com", handshakeDeadlineMs: noDeadline)
        let refused = pump(probe, try TLSConnection(server: context, handshakeDeadlineMs: noDeadline))
        guard case .failed = refused.server else {
            Issue.record("expected a failed handshake, got \(refused)")
            return
        }
        // An ordinary client still gets the listener's certificate and http/1.1.
        let client = try TLSConnection(client: try Fixture.client(), serverName: "a.example.com", handshakeDeadlineMs: noDeadline)
        let server = try TLSConnection(server: context, handshakeDeadlineMs: noDeadline)
        let results = pump(client, server)
        #expect(results.client == .done && results.server == .done, "\(results)")
        #expect(server.negotiatedProtocol == "http/1.1")
    }

    @Test func mismatchedPEMsAreRefused() throws {
        let pair = try Self.challengePair()
        let other = try Self.challengePair()
        defer {
            GatewayProcess.removeDirectory(pair.directory)
            GatewayProcess.removeDirectory(other.directory)
        }
        let challenges = ACMEChallengeCertificates()
        #expect(throws: (any Error).self) {
            try challenges.install(
                domain: "acme.example.test", certificatePEM: Array(ChildProcess.readFile(pair.certificate).utf8),
                keyPEM: Array(ChildProcess.readFile(other.key).utf8))
        }
        #expect(throws: (any Error).self) {
            try challenges.install(domain: "x.test", certificatePEM: Array("junk".utf8), keyPEM: [])
        }
        #expect(challenges.domains.isEmpty)
    }
}
