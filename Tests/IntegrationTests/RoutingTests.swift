import MeshTestSupport
import Testing

/// SPEC §3 route matching: first match wins; path, path_prefix (segment-aware), path_template; methods, host
/// (exact or `*.` wildcard, case-insensitive per RFC 3986 §3.2.2), headers; rewrite edge cases.
@Suite struct RoutingTests {
    /// A rig whose upstreams are named after the routes and all echo.
    static func rig(_ routes: [(name: String, match: String)], extra: String = "") throws -> Rig {
        var upstreams: [String: UpstreamBehavior] = [:]
        for route in routes { upstreams[route.name] = .echo }
        let texts = routes.map { "{ \"match\": \($0.match), \"upstream\": \"\($0.name)\"\(extra) }" }
        return try Rig(upstreams: upstreams, routes: texts)
    }

    /// Which upstream got the request (nil when none did, e.g. a 404).
    static func target(of rig: Rig, _ request: String) throws -> String? {
        let before = rig.upstreams.mapValues { $0.requests.count }
        _ = try rig.client().request(request)
        return rig.upstreams.first { $0.value.requests.count > before[$0.key]! }?.key
    }

    @Test func pathPrefixIsSegmentAware() throws {
        let rig = try Self.rig([("api", "{ \"path_prefix\": \"/api\" }")])
        for (path, routed) in [("/api", true), ("/api/", true), ("/api/x/y", true), ("/apix", false), ("/ap", false)] {
            let response = try rig.get(path)
            #expect((response.status == 200) == routed, "\(path) → \(response.status)")
        }
        rig.expectCleanStop()
    }

    @Test func firstMatchingRouteWins() throws {
        let rig = try Self.rig([
            ("exact", "{ \"path\": \"/a/b\" }"),
            ("template", "{ \"path_template\": \"/users/{id}/followers\" }"),
            ("posts", "{ \"path_prefix\": \"/a\", \"methods\": [\"POST\"] }"),
            ("canary", "{ \"path_prefix\": \"/a\", \"headers\": { \"x-canary\": \"1\" } }"),
            ("rest", "{ \"path_prefix\": \"/\" }"),
        ])
        let cases: [(String, String)] = [
            ("GET /a/b HTTP/1.1\r\nHost: h\r\n\r\n", "exact"),
            ("GET /a/b/c HTTP/1.1\r\nHost: h\r\n\r\n", "rest"),
            ("GET /users/42/followers HTTP/1.1\r\nHost: h\r\n\r\n", "template"),
            ("GET /users/42/followers/x HTTP/1.1\r\nHost: h\r\n\r\n", "rest"),
            ("GET /users//followers HTTP/1.1\r\nHost: h\r\n\r\n", "rest"),
            ("POST /a/x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", "posts"),
            ("GET /a/x HTTP/1.1\r\nHost: h\r\nX-Canary: 1\r\n\r\n", "canary"),
            ("GET /a/x HTTP/1.1\r\nHost: h\r\nX-Canary: 2\r\n\r\n", "rest"),
        ]
        for (request, expected) in cases {
            #expect(try Self.target(of: rig, request) == expected, "\(request.prefix { $0 != "\r" })")
        }
        rig.expectCleanStop()
    }

    @Test func hostMatchingIsExactOrWildcardAndCaseInsensitive() throws {
        let rig = try Self.rig([
            ("exact", "{ \"path_prefix\": \"/\", \"host\": \"api.example.com\" }"),
            ("wild", "{ \"path_prefix\": \"/\", \"host\": \"*.example.com\" }"),
            ("rest", "{ \"path_prefix\": \"/\" }"),
        ])
        let cases: [(String, String)] = [
            ("api.example.com", "exact"),
            ("API.Example.COM", "exact"),
            ("a.example.com", "wild"),
            ("x.y.example.com", "wild"),
            ("example.com", "rest"),
            ("notexample.com", "rest"),
        ]
        for (host, expected) in cases {
            let routed = try Self.target(of: rig, "GET /h HTTP/1.1\r\nHost: \(host)\r\n\r\n")
            #expect(routed == expected, "Host: \(host)")
        }
        rig.expectCleanStop()
    }

    @Test func stripPrefixOfTheWholePathLeavesSlash() throws {
        let rig = try Rig(
            upstreams: ["app": .echo],
            routes: [TestConfig.route("/svc", to: "app", "\"rewrite\": { \"strip_prefix\": \"/svc\" }")])
        _ = try rig.get("/svc")
        _ = try rig.get("/svc?x=1")
        _ = try rig.get("/svc/a")
        #expect(rig.upstream.requests.map(\.target) == ["/", "/?x=1", "/a"])
        rig.expectCleanStop()
    }
}
