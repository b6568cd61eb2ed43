import Testing

@testable import MeshConfig

/// SPEC §12 `tls.acme`: decoded with its defaults, and every bad value reported once at its JSON path.
@Suite struct ACMEConfigTests {
    static func acme(_ fields: String, certificates: Bool = false) -> String {
        let pairs = certificates ? #""certificates": [{"cert_file": "a.crt", "key_file": "a.key"}], "# : ""
        return #""tls": {\#(pairs)"acme": {\#(fields)}},"#
    }

    static let good = #""directory_url": "https://acme.test/dir", "domains": ["A.example.com"], "storage_dir": "/var/lib/mg""#

    @Test func decodesWithDefaults() throws {
        let config = try loadValid(document(listenerExtra: Self.acme(Self.good)))
        let acme = try #require(config.listeners[0].tls?.acme)
        #expect(acme.directoryURL == "https://acme.test/dir")
        #expect(acme.domains == ["a.example.com"])
        #expect(acme.challenge == "http-01")
        #expect(acme.email == nil && acme.caFile == nil)
        #expect(acme.certFile == "/var/lib/mg/certificate.pem")
        #expect(config.listeners[0].tls?.certificates.isEmpty == true)
        let alpn = try loadValid(
            document(listenerExtra: Self.acme(Self.good + #", "challenge": "tls-alpn-01", "email": "o@x.test""#)))
        #expect(alpn.listeners[0].tls?.acme?.challenge == "tls-alpn-01")
        #expect(alpn.listeners[0].tls?.acme?.email == "o@x.test")
    }

    static let cases: [ValidationCase] = [
        .init(
            name: "acme and certificates", document: document(listenerExtra: acme(good, certificates: true)),
            path: "listeners[0].tls.certificates", message: "certificates and acme are mutually exclusive"),
        .init(
            name: "empty domains",
            document: document(listenerExtra: acme(#""directory_url": "https://a.test/d", "domains": [], "storage_dir": "s""#)),
            path: "listeners[0].tls.acme.domains", message: "must not be empty"),
        .init(
            name: "domain not a DNS name",
            document: document(
                listenerExtra: acme(#""directory_url": "https://a.test/d", "domains": ["a b"], "storage_dir": "s""#)),
            path: "listeners[0].tls.acme.domains[0]", message: "is not a DNS name"),
        .init(
            name: "no storage_dir",
            document: document(listenerExtra: acme(#""directory_url": "https://a.test/d", "domains": ["a.test"]"#)),
            path: "listeners[0].tls.acme", message: "missing required key \"storage_dir\""),
        .init(
            name: "plain http directory",
            document: document(
                listenerExtra: acme(#""directory_url": "http://a.test/d", "domains": ["a.test"], "storage_dir": "s""#)),
            path: "listeners[0].tls.acme.directory_url", message: "must be an https:// URL"),
        .init(
            name: "unknown challenge", document: document(listenerExtra: acme(good + #", "challenge": "dns-01""#)),
            path: "listeners[0].tls.acme.challenge", message: "unknown value \"dns-01\""),
        .init(
            name: "acme key typo", document: document(listenerExtra: acme(good + #", "storage": "x""#)),
            path: "listeners[0].tls.acme.storage", message: "unknown key \"storage\""),
    ]

    @Test(arguments: cases)
    func reportsOneErrorAtPath(_ testCase: ValidationCase) {
        let errors = loadErrors(testCase.document, environment: testCase.environment)
        #expect(errors.count == 1, "\(errors)")
        guard let error = errors.first else { return }
        #expect(error.path == testCase.path)
        #expect(error.message.contains(testCase.message), "message was: \(error.message)")
    }
}
