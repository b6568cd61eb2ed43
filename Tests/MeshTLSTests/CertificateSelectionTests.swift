import MeshTLS
import MeshTestSupport
import Testing

@Suite struct CertificateSelectionTests {
    /// Pairs a (a.example.com), b (b.example.com, b-alt.example.com), wild (*.wild.example.com).
    static let table = ServerNameTable(namesPerPair: [
        ["a.example.com"], ["b.example.com", "b-alt.example.com"], ["*.wild.example.com"],
    ])

    @Test(arguments: [
        ("a.example.com", 0), ("b.example.com", 1), ("B-ALT.example.COM", 1), ("b.example.com.", 1),
        ("api.wild.example.com", 2), ("API.Wild.Example.Com", 2),
        // `*.` covers exactly one label: not the bare suffix, not two labels.
        ("wild.example.com", 0), ("a.b.wild.example.com", 0), (".wild.example.com", 0),
        ("unknown.example.org", 0), ("", 0), ("*.wild.example.com", 0),
    ])
    func rfc6125Selection(name: String, expected: Int) {
        #expect(Self.table.select(name) == expected, "\(name)")
    }

    @Test func noServerNameSelectsTheFirstPair() {
        #expect(Self.table.select(nil) == 0)
    }

    @Test func exactNameWinsOverWildcardAndFirstPairWinsAmongEquals() {
        let table = ServerNameTable(namesPerPair: [
            ["*.example.com"], ["api.example.com"], ["api.example.com", "*.example.com"],
        ])
        #expect(table.select("api.example.com") == 1)
        #expect(table.select("www.example.com") == 0)
    }

    @Test func wildcardsOverPublicSuffixesAndPartialLabelsNeverMatch() {
        let table = ServerNameTable(namesPerPair: [["x.example.org"], ["*.com", "f*.example.com", "*"]])
        #expect(table.select("example.com") == 0)
        #expect(table.select("foo.example.com") == 0)
        #expect(table.select("f*.example.com") == 0)
        #expect(table.select("anything") == 0)
    }

    /// Through real handshakes: the client verifies the served certificate against the name, and the subject
    /// shows which pair the server picked.
    @Test(arguments: [
        ("a.example.com", "CN=a.example.com", 0), ("b-alt.example.com", "CN=b.example.com", 1),
        ("B.EXAMPLE.COM", "CN=b.example.com", 1), ("api.wild.example.com", "CN=wildcard", 2),
    ])
    func sniPicksTheServedCertificate(name: String, subject: String, index: Int) throws {
        let pair = try Handshake(client: try Fixture.client(), server: try Fixture.server(), name: name)
        #expect(pair.clientResult == .done)
        #expect(pair.serverResult == .done)
        #expect(pair.server.certificateIndex == index)
        #expect(pair.client.peerIdentity?.subject == subject)
    }

    @Test(arguments: ["wild.example.com", "a.b.wild.example.com", "other.example.org"])
    func unmatchedNamesGetTheFirstPairAndTheClientRejectsIt(name: String) throws {
        let pair = try Handshake(client: try Fixture.client(), server: try Fixture.server(), name: name)
        #expect(pair.server.certificateIndex == 0)
        #expect(pair.clientResult == .failed(.peerCertificateRejected("hostname mismatch")))
    }

    /// The client side of RFC 6125 (libssl's X509_check_host): `*.wild.example.com` covers one label only.
    @Test(arguments: [("api.wild.example.com", true), ("wild.example.com", false), ("a.b.wild.example.com", false)])
    func upstreamWildcardCoversExactlyOneLabel(name: String, accepted: Bool) throws {
        let pair = try Handshake(client: try Fixture.client(), server: try Fixture.server(["wild"]), name: name)
        #expect(pair.clientResult == (accepted ? .done : .failed(.peerCertificateRejected("hostname mismatch"))))
    }

    @Test func ipEndpointSendsNoSNIAndVerifiesTheIPSAN() throws {
        let server = try Fixture.server(["ip", "a"])
        let pair = try Handshake(client: try Fixture.client(), server: server, name: "127.0.0.1")
        #expect(pair.clientResult == .done)
        #expect(pair.serverResult == .done)
        #expect(pair.server.serverName == nil)
        #expect(pair.server.certificateIndex == 0)
    }

    @Test func ipEndpointRejectsACertificateForAnotherIP() throws {
        let pair = try Handshake(client: try Fixture.client(), server: try Fixture.server(["ip"]), name: "127.0.0.2")
        #expect(pair.clientResult == .failed(.peerCertificateRejected("IP address mismatch")))
    }

    @Test func pairsExposeTheirNamesAndExpiry() throws {
        let pair = try Fixture.pair("b")
        #expect(pair.dnsNames == ["b.example.com", "b-alt.example.com"])
        #expect(pair.subject == "CN=b.example.com")
        #expect(pair.notAfter > Fixture.wallClock() + 29 * 86_400)
    }
}
