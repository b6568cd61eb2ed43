import Testing

@testable import MeshConfig

/// Normalisation and inheritance: what the decoder turns valid input into.
@Suite struct DecodingTests {
    @Test func jwtInheritance() throws {
        let text = document(
            route: """
                {"name": "inherits", "match": {"path": "/a"}, "upstream": "app"},
                {"name": "own", "match": {"path": "/b"}, "upstream": "app", "jwt": {"provider": "other", "required": false}},
                {"name": "open", "match": {"path": "/c"}, "upstream": "app", "public": true}
                """,
            listenerExtra: #""jwt": {"provider": "local", "claims_to_headers": {"sub": "X-User-Id"}},"#,
            providers: """
                {"local": {"issuer": "a", "jwks": {"file": "a.json"}},
                 "other": {"issuer": "b", "jwks": {"file": "b.json"}}}
                """)
        let config = try loadValid(text)
        let routes = config.listeners[0].routes
        #expect(config.listeners[0].jwt?.provider == "local")
        #expect(routes[0].jwt?.provider == "local")
        #expect(routes[0].jwt?.required == true)
        #expect(routes[0].jwt?.claimsToHeaders.map(\.header) == ["x-user-id"])
        #expect(routes[1].jwt?.provider == "other")
        #expect(routes[1].jwt?.required == false)
        #expect(routes[2].jwt == nil)
        #expect(routes[2].isPublic)
    }

    @Test(arguments: [
        (#""path": "/exact""#, PathMatch.exact("/exact")),
        (#""path_prefix": "/api/""#, .prefix("/api")),
        (#""path_prefix": "/api""#, .prefix("/api")),
        (#""path_prefix": "/""#, .prefix("/")),
        (
            #""path_template": "/users/{id}/followers""#,
            .template(segments: ["users", nil, "followers"], names: ["id"])
        ),
        (#""path_template": "/{a}/{b}""#, .template(segments: [nil, nil], names: ["a", "b"])),
    ])
    func pathMatches(fields: String, expected: PathMatch) throws {
        let config = try loadValid(document(route: #"{"match": {\#(fields)}, "upstream": "app"}"#))
        #expect(config.listeners[0].routes[0].match.path == expected)
    }

    @Test(arguments: [
        ("API.Example.com", HostMatch.exact("api.example.com")),
        ("*.Example.COM", .wildcardSuffix(".example.com")),
        ("profile", .exact("profile")),
    ])
    func hostMatches(host: String, expected: HostMatch) throws {
        let config = try loadValid(document(route: #"{"match": {"path": "/", "host": "\#(host)"}, "upstream": "app"}"#))
        #expect(config.listeners[0].routes[0].match.host == expected)
    }

    @Test func methodsUppercasedAndHeadersLowercased() throws {
        let route = """
            {"match": {"path": "/", "methods": ["get", "Put", "GET"], "headers": {"X-Canary": "On"}},
             "upstream": "app",
             "request_headers": {"set": {"X-Env": "Prod"}, "remove": ["X-Debug"]},
             "response_headers": {"remove": ["Server"]}}
            """
        let r = try loadValid(document(route: route)).listeners[0].routes[0]
        #expect(r.match.methods == ["GET", "PUT"])
        #expect(r.match.headers.map(\.name) == ["x-canary"])
        #expect(r.match.headers.map(\.value) == ["On"])
        #expect(r.requestHeaders.set.map(\.name) == ["x-env"])
        #expect(r.requestHeaders.set.map(\.value) == ["Prod"])
        #expect(r.requestHeaders.remove == ["x-debug"])
        #expect(r.responseHeaders.remove == ["server"])
    }

    @Test(arguments: [
        ("127.0.0.1:8080", "127.0.0.1", UInt16(8080)),
        ("[::1]:9901", "::1", 9901),
        ("[::]:1", "::", 1),
        ("localhost:65535", "localhost", 65535),
        ("profile.default.svc.cluster.local:9102", "profile.default.svc.cluster.local", 9102),
    ])
    func addresses(text: String, host: String, port: UInt16) throws {
        let config = try loadValid(document(upstreams: #"{"app": {"endpoints": ["\#(text)"]}}"#))
        let endpoint = try #require(config.upstreams["app"]?.endpoints.first)
        #expect(endpoint == HostPort(host: host, port: port))
        #expect(endpoint.description == text)
    }

    @Test func tokenSourcesAndJWKS() throws {
        let providers = """
            {"local": {"issuer": "i", "audiences": ["a", "b"], "secret_env": "S",
              "jwks": {"file": "k.json", "url": "http://h:1/j", "refresh_ms": 5000,
                       "inline": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}},
              "algorithms": ["HS256", "ES256"],
              "from": [{"header": "X-Token"}, {"cookie": "tok"}, "bearer"]}}
            """
        let p = try #require(
            try loadValid(document(providers: providers), environment: ["S": "x"]).jwtProviders["local"])
        #expect(p.from == [.header("x-token"), .cookie("tok"), .bearer])
        #expect(p.audiences == ["a", "b"])
        #expect(p.jwks.count == 3)
        guard case .file("k.json") = p.jwks[0], case .url("http://h:1/j", 5000, nil) = p.jwks[1],
            case .inline(let inline) = p.jwks[2]
        else {
            Issue.record("unexpected sources \(p.jwks)")
            return
        }
        #expect(inline == #"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#)
    }

    /// SPEC §9: an https:// collector, verified against `tracing.ca_file` when given (else the system store).
    @Test(
        arguments: [
            (
                #"{"otlp_endpoint": "https://c:4318/v1/traces", "ca_file": "ca.pem"}"#, "https://c:4318/v1/traces",
                "ca.pem"
            ),
            (#"{"otlp_endpoint": "https://c:4318/v1/traces"}"#, "https://c:4318/v1/traces", nil),
            (#"{"otlp_endpoint": "http://c:4318/v1/traces"}"#, "http://c:4318/v1/traces", nil),
            // Export off: a CA file left behind is kept and unused, not an error.
            (#"{"otlp_endpoint": null, "ca_file": "ca.pem"}"#, nil, "ca.pem"),
            (#"{"ca_file": "ca.pem"}"#, nil, "ca.pem"),
        ] as [(String, String?, String?)])
    func tracingEndpointAndCAFile(tracing: String, endpoint: String?, caFile: String?) throws {
        let config = try loadValid(document(extra: #""tracing": \#(tracing)"#))
        #expect(config.tracing.otlpEndpoint == endpoint)
        #expect(config.tracing.caFile == caFile)
    }

    @Test func upstreamOrderFollowsFile() throws {
        let upstreams = """
            {"zeta": {"endpoints": ["127.0.0.1:1"]}, "alpha": {"endpoints": ["127.0.0.1:2"]},
             "app": {"endpoints": ["127.0.0.1:3"]}}
            """
        let config = try loadValid(document(upstreams: upstreams))
        #expect(config.upstreamOrder == ["zeta", "alpha", "app"])
        #expect(config.upstreams["alpha"]?.name == "alpha")
    }
}
