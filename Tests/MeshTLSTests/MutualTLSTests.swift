import MeshTestSupport
import Testing

@testable import MeshTLS

@Suite struct MutualTLSTests {
    static func server(require: Bool) throws -> TLSServerContext {
        try Fixture.server {
            $0.clientCAFile = Fixture.pki.path("ca.crt")
            $0.requireClientCert = require
        }
    }

    @Test(arguments: [TLSVersion.tls12, .tls13])
    func verifiedClientIdentityIsTheForwardedHeader(version: TLSVersion) throws {
        let client = try Fixture.client(certificate: "client") { $0.maximumVersion = version }
        let pair = try Handshake(client: client, server: try Self.server(require: true), name: "a.example.com")
        #expect(pair.serverResult == .done)
        let hash = try Fixture.pki.fingerprint("client")
        #expect(hash.count == 64)
        #expect(pair.server.peerIdentity?.uri == "spiffe://cluster.local/ns/default/sa/frontend")
        #expect(
            pair.server.peerIdentity?.forwardedClientCert
                == "Hash=\(hash);URI=spiffe://cluster.local/ns/default/sa/frontend;Subject=\"CN=frontend,O=Example,C=US\""
        )
    }

    @Test(arguments: [TLSVersion.tls12, .tls13])
    func requiredClientCertificateMissingFailsTheHandshake(version: TLSVersion) throws {
        let client = try Fixture.client { $0.maximumVersion = version }
        let pair = try Handshake(client: client, server: try Self.server(require: true), name: "a.example.com")
        #expect(pair.serverResult == .failed(.peerCertificateMissing))
        // TLS 1.3 clients finish before the server decides; the alert ends them on their first read.
        var buffer = [UInt8](repeating: 0, count: 64)
        let read = buffer.withUnsafeMutableBytes { pair.client.read(into: $0) }
        guard case .failed = read else {
            Issue.record("client read \(read) after the server refused it")
            return
        }
    }

    @Test func optionalClientCertificateMayBeAbsent() throws {
        let pair = try Handshake(
            client: try Fixture.client(), server: try Self.server(require: false), name: "a.example.com")
        #expect(pair.serverResult == .done)
        #expect(pair.server.peerIdentity == nil)
    }

    @Test(arguments: [false, true])
    func clientCertificateFromAnotherCAAlwaysFails(require: Bool) throws {
        let client = try Fixture.client(certificate: "rogue-client")
        let pair = try Handshake(client: client, server: try Self.server(require: require), name: "a.example.com")
        #expect(pair.serverResult == .failed(.peerCertificateRejected("unable to get local issuer certificate")))
        #expect(pair.server.peerIdentity == nil)
    }

    @Test func certificateWithoutURIHasNoURIPart() throws {
        let client = try Fixture.client(certificate: "client-nouri")
        let pair = try Handshake(client: client, server: try Self.server(require: true), name: "a.example.com")
        #expect(pair.serverResult == .done)
        let hash = try Fixture.pki.fingerprint("client-nouri")
        #expect(pair.server.peerIdentity?.forwardedClientCert == "Hash=\(hash);Subject=\"CN=plain client\"")
    }

    // Regression: issue 11 — a URI SAN is attacker-chosen text inside a header value; `;`, `"` or `,` in it
    // would let a client certificate append its own Hash/Subject fields to x-forwarded-client-cert.
    @Test func uriThatCouldForgeHeaderFieldsIsLeftOut() throws {
        #expect(
            try Fixture.pki.subjectAltNames("client-evil").contains("URI:spiffe://x/a;Hash=00;Subject=\"CN=admin\""))
        let client = try Fixture.client(certificate: "client-evil")
        let pair = try Handshake(client: client, server: try Self.server(require: true), name: "a.example.com")
        #expect(pair.serverResult == .done)
        let identity = try #require(pair.server.peerIdentity)
        #expect(identity.uri == nil)
        #expect(identity.subject == "CN=evil")
        #expect(identity.forwardedClientCert.split(separator: ";").count == 2)
    }

    @Test func headerSafeURIsArePrintableASCIIWithoutSeparators() {
        var rng = SplitMix64(state: 11)
        var accepted = 0
        for _ in 0..<5_000 {
            let bytes = (0..<Int.random(in: 0..<4, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            guard let uri = PeerIdentity.headerSafe(bytes) else { continue }
            accepted += 1
            #expect(uri.utf8.allSatisfy { (0x21...0x7e).contains($0) && !"\";,\\".utf8.contains($0) })
        }
        #expect(accepted > 100)
        #expect(PeerIdentity.headerSafe(Array("spiffe://cluster.local/ns/a/sa/b".utf8)) != nil)
    }
}
