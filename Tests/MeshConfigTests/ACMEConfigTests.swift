import Foundation
import Testing

@testable import MeshConfig

/// SPEC §12 `tls.acme`: decoded with its defaults, and every bad value reported once at its JSON path.
@Suite struct ACMEConfigTests {
    static func acme(_ fields: String, certificates: Bool = false) -> String {
        let pairs = certificates ? #""certificates": [{"cert_file": "a.crt", "key_file": "a.key"}], "# : ""
        return #""tls": {\#(pairs)"acme": {\#(fields)}},"#
    }

    /// The base document with a plaintext listener "web" added after the ACME one (http-01 is answered there).
    static func doc(listenerExtra: String, plaintext: Bool = true, second: String? = nil) -> String {
        var text = document(listenerExtra: listenerExtra)
        let anchor = #""routes": [{"match": {"path": "/"}, "upstream": "app"}]}]"#
        var more = ""
        if plaintext { more += #", {"name": "web", "address": "127.0.0.1:8081", "routes": [{"match": {"path": "/"}, "upstream": "app"}]}"# }
        if let second {
            more += #", {"name": "edge2", "address": "127.0.0.1:8444", \#(second) "routes": [{"match": {"path": "/"}, "upstream": "app"}]}"#
        }
        text = text.replacingOccurrences(of: anchor, with: String(anchor.dropLast()) + more + "]")
        return text
    }

    static let good = #""directory_url": "https://acme.test/dir", "domains": ["A.example.com"], "storage_dir": "/var/lib/mg""#

    @Test func decodesWithDefaults() throws {
        let config = try loadValid(Self.doc(listenerExtra: Self.acme(Self.good)))
        let acme = try #require(config.listeners[0].tls?.acme)
        #expect(acme.directoryURL == "https://acme.test/dir")
        #expect(acme.domains == ["a.example.com"])
        #expect(acme.challenge == "http-01")
        #expect(acme.email == nil && acme.caFile == nil)
        #expect(acme.certFile == "/var/lib/mg/certificate.pem")
        #expect(config.listeners[0].tls?.certificates.isEmpty == true)
        let alpn = try loadValid(
            Self.doc(listenerExtra: Self.acme(Self.good + #", "challenge": "tls-alpn-01", "email": "o@x.test""#)))
        #expect(alpn.listeners[0].tls?.acme?.challenge == "tls-alpn-01")
        #expect(alpn.listeners[0].tls?.acme?.email == "o@x.test")
    }

    static let cases: [ValidationCase] = [
        .init(
            name: "acme and certificates", document: doc(listenerExtra: acme(good, certificates: true)),
            path: "listeners[0].tls.certificates", message: "certificates and acme are mutually exclusive"),
        .init(
            name: "empty domains",
            document: doc(listenerExtra: acme(#""directory_url": "https://a.test/d", "domains": [], "storage_dir": "s""#)),
            path: "listeners[0].tls.acme.domains", message: "must not be empty"),
        .init(
            name: "domain not a DNS name",
            document: doc(
                listenerExtra: acme(#""directory_url": "https://a.test/d", "domains": ["a b"], "storage_dir": "s""#)),
            path: "listeners[0].tls.acme.domains[0]", message: "is not a DNS name"),
        .init(
            name: "no storage_dir",
            document: doc(listenerExtra: acme(#""directory_url": "https://a.test/d", "domains": ["a.test"]"#)),
            path: "listeners[0].tls.acme", message: "missing required key \"storage_dir\""),
        .init(
            name: "plain http directory",
            document: doc(
                listenerExtra: acme(#""directory_url": "http://a.test/d", "domains": ["a.test"], "storage_dir": "s""#)),
            path: "listeners[0].tls.acme.directory_url", message: "must be an https:// URL"),
        .init(
            name: "unknown challenge", document: doc(listenerExtra: acme(good + #", "challenge": "dns-01""#)),
            path: "listeners[0].tls.acme.challenge", message: "unknown value \"dns-01\""),
        .init(
            name: "http-01 without a plaintext listener",
            document: doc(listenerExtra: acme(good), plaintext: false),
            path: "listeners[0].tls.acme.challenge", message: "http-01 is answered on a plaintext listener"),
        .init(
            name: "shared storage_dir",
            document: doc(listenerExtra: acme(good), second: acme(good)),
            path: "listeners[2].tls.acme.storage_dir", message: "is already used by listeners[0].tls.acme.storage_dir"),
        .init(
            name: "acme key typo", document: doc(listenerExtra: acme(good + #", "storage": "x""#)),
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
