import MeshJSON
import Testing

@testable import MeshConfig

/// Credentials in configured URLs never leave in text (SPEC §5, §6): userinfo and query (and fragment) are
/// replaced, scheme, host, port and path stay. Checked as a property over generated URLs, then where the
/// text goes: `/config` and validation errors.
@Suite struct URLRedactionTests {
    static let secret = "S3cr3t"

    /// URLs with the secret in every place it can hide, over several hosts and paths.
    static let variants: [(url: String, kept: String)] = {
        var all: [(String, String)] = []
        for host in ["127.0.0.1:9101", "idp.example", "[::1]:8080"] {
            for path in ["", "/", "/.well-known/jwks.json", "/a@b/keys"] {
                let base = "http://\(host)\(path)"
                all.append(("http://user:\(secret)@\(host)\(path)", base))
                all.append(("http://\(secret)@\(host)\(path)", base))
                all.append(("http://\(host)\(path)?access_token=\(secret)", base))
                all.append(("http://\(host)\(path)?a=1&key=\(secret)&b=2", base))
                all.append(("http://\(host)\(path)#token=\(secret)", base))
                all.append(("http://u:\(secret)@\(host)\(path)?t=\(secret)#\(secret)", base))
            }
        }
        return all
    }()

    // Regression: issue 10 — a jwks.url with credentials was logged verbatim.
    @Test func noSecretSurvivesAndTheEndpointStaysReadable() {
        for (url, kept) in Self.variants {
            let shown = URLRedaction.redact(url)
            #expect(!shown.contains(Self.secret), "\(url) → \(shown)")
            // What is left once the markers go is exactly scheme, host, port and path.
            let endpoint = shown.split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
            let bare = endpoint.split(separator: "#", maxSplits: 1).first.map(String.init) ?? ""
            let withoutUser = bare.hasPrefix("http://[redacted]@") ? "http://" + bare.dropFirst(18) : bare
            #expect(withoutUser == kept, "\(url) → \(shown)")
        }
    }

    @Test(arguments: [
        "http://127.0.0.1:9101/jwks", "http://idp.example/.well-known/jwks.json", "http://[::1]:8080/",
    ])
    func urlsWithoutSecretsAreUnchanged(url: String) {
        #expect(URLRedaction.redact(url) == url)
    }

    @Test func configOutputRedactsEveryConfiguredURL() throws {
        let url = "http://user:\(Self.secret)@127.0.0.1:9101/jwks?access_token=\(Self.secret)"
        let text = document(
            providers: #"{"local": {"issuer": "i", "jwks": {"url": "\#(url)"}}}"#,
            extra: #""tracing": {"otlp_endpoint": "http://127.0.0.1:4318/v1/traces?key=\#(Self.secret)"}, "#
                + #""app": {"health_url": "http://a:\#(Self.secret)@127.0.0.1:8000/healthz"}"#)
        let config = try loadValid(text)
        let rendered = ConfigLoader.render(config)
        #expect(!rendered.contains(Self.secret), "\(rendered)")
        #expect(rendered.contains("http://[redacted]@127.0.0.1:9101/jwks?[redacted]"), "\(rendered)")
    }

    @Test(arguments: ["ftp://user:SECRET@idp/jwks", "http://user:SECRET@/jwks?token=SECRET", "http://:SECRET@/"])
    func validationErrorsDoNotQuoteCredentials(url: String) {
        let text = document(providers: #"{"local": {"issuer": "i", "jwks": {"url": "\#(url)"}}}"#)
        let errors = loadErrors(text)
        #expect(errors.count == 1, "\(errors)")
        #expect(!"\(errors)".contains("SECRET"), "\(errors)")
    }
}
