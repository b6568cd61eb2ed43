import MeshJSON
import Testing

@testable import MeshConfig

@Suite struct RenderTests {
    /// render → parse → render is a fixpoint: the output is a complete, loadable config with every default shown.
    @Test(arguments: [
        "routes.json", "examples/minimal.json", "examples/sidecar.json",
        "Tests/MeshConfigTests/Fixtures/valid/everything.json",
    ])
    func renderedConfigLoadsAndRendersTheSame(file: String) throws {
        let config = try ConfigLoader.load(path: "\(repoRoot)/\(file)").get()
        let rendered = ConfigLoader.render(config)
        // Redacted secrets are not valid key material, but they are still a valid config.
        let again = try loadValid(rendered)
        #expect(ConfigLoader.render(again) == rendered)
        #expect(again.listeners.count == config.listeners.count)
        #expect(again.upstreamOrder == config.upstreamOrder)
    }

    @Test func defaultsAreVisible() throws {
        let rendered = ConfigLoader.render(try loadValid(document()))
        let root = try JSONReader.parse(rendered)
        let route = try #require(root["listeners"]?.arrayValue?.first?["routes"]?.arrayValue?.first)
        #expect(route["name"]?.stringValue == "edge#0")
        #expect(route["timeout_ms"]?.int64Value == 3000)
        #expect(route["retry"]?["retries"]?.int64Value == 2)
        #expect(route["public"]?.boolValue == false)
        #expect(root["upstreams"]?["app"]?["pool"]?["max_connections"]?.int64Value == 256)
        #expect(root["admin"]?["address"]?.stringValue == "127.0.0.1:9901")
        #expect(root["tracing"]?["otlp_endpoint"]?.isNull == true)
        #expect(root["jwt_providers"]?["local"]?["leeway_s"]?.int64Value == 30)
    }

    @Test func tracingCAFileIsShownOnlyWhenSet() throws {
        let tracing = #""tracing": {"otlp_endpoint": "https://collector:4318/v1/traces", "ca_file": "/etc/ca.pem"}"#
        let rendered = ConfigLoader.render(try loadValid(document(extra: tracing)))
        let root = try JSONReader.parse(rendered)
        #expect(root["tracing"]?["otlp_endpoint"]?.stringValue == "https://collector:4318/v1/traces")
        #expect(root["tracing"]?["ca_file"]?.stringValue == "/etc/ca.pem")
        #expect(ConfigLoader.render(try loadValid(rendered)) == rendered)
        let plain = try JSONReader.parse(ConfigLoader.render(try loadValid(document())))
        #expect(plain["tracing"]?["ca_file"] == nil)
    }

    @Test func secretsAreRedacted() throws {
        let providers = """
            {"local": {"issuer": "i",
              "jwks": {"url": "http://user:hunter2@127.0.0.1:9101/jwks",
                       "inline": {"keys": [
                         {"kty": "oct", "kid": "h", "k": "c3VwZXJzZWNyZXQ"},
                         {"kty": "EC", "crv": "P-256", "x": "PUBX", "y": "PUBY", "d": "PRIVATE_D"},
                         {"kty": "RSA", "n": "PUBN", "e": "AQAB", "d": "RD", "p": "RP", "q": "RQ",
                          "dp": "RDP", "dq": "RDQ", "qi": "RQI"}]}},
              "secret_env": "JWT_SECRET", "algorithms": ["HS256", "ES256", "RS256"]}}
            """
        let text = document(
            providers: providers, extra: #""tracing": {"otlp_endpoint": "http://a:b@collector:4318/v1/traces"}"#)
        let rendered = ConfigLoader.render(try loadValid(text, environment: ["JWT_SECRET": "env-secret-value"]))
        for secret in [
            "c3VwZXJzZWNyZXQ", "PRIVATE_D", "\"RD\"", "\"RP\"", "\"RQ\"", "RDP", "RDQ", "RQI", "hunter2",
            "a:b@", "env-secret-value",
        ] {
            #expect(!rendered.contains(secret), "leaked \(secret)")
        }
        // Public material and the variable's name stay, so the output still explains the setup.
        for visible in [
            "PUBX", "PUBY", "PUBN", "AQAB", "JWT_SECRET", "http://[redacted]@127.0.0.1:9101/jwks",
            "http://[redacted]@collector:4318/v1/traces",
        ] {
            #expect(rendered.contains(visible), "missing \(visible)")
        }
    }

    @Test func adminNullRendersNull() throws {
        let rendered = ConfigLoader.render(try loadValid(document(extra: #""admin": null"#)))
        #expect(try JSONReader.parse(rendered)["admin"]?.isNull == true)
    }
}
