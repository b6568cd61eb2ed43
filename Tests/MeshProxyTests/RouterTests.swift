import MeshHTTP1
import MeshProxy
import Testing

@Suite struct RouterTests {
    static let routes = [
        #"{"name": "exact", "match": {"path": "/health"}, "upstream": "app"}"#,
        #"{"name": "template", "match": {"path_template": "/users/{id}/followers"}, "upstream": "app"}"#,
        #"{"name": "wild", "match": {"path_prefix": "/w", "host": "*.example.com"}, "upstream": "app"}"#,
        #"{"name": "host", "match": {"path_prefix": "/w", "host": "api.example.com"}, "upstream": "app"}"#,
        #"{"name": "canary", "match": {"path_prefix": "/api", "headers": {"x-canary": "1"}}, "upstream": "other"}"#,
        #"{"name": "api-put", "match": {"path_prefix": "/api", "methods": ["PUT", "PURGE"]}, "upstream": "app"}"#,
        #"{"name": "api", "match": {"path_prefix": "/api/"}, "upstream": "app"}"#,
    ]

    static let cases: [(request: String, route: String?)] = [
        ("GET /health HTTP/1.1\r\nHost: a\r\n\r\n", "exact"),
        ("GET /health/x HTTP/1.1\r\nHost: a\r\n\r\n", nil),
        ("GET /users/42/followers HTTP/1.1\r\nHost: a\r\n\r\n", "template"),
        ("GET /users//followers HTTP/1.1\r\nHost: a\r\n\r\n", nil),
        ("GET /users/42/followers/x HTTP/1.1\r\nHost: a\r\n\r\n", nil),
        ("GET /w/x HTTP/1.1\r\nHost: a.example.com\r\n\r\n", "wild"),
        ("GET /w/x HTTP/1.1\r\nHost: A.EXAMPLE.com:8080\r\n\r\n", "wild"),
        // `*.example.com` does not match `example.com` (SPEC §4); the exact host route comes later in order.
        ("GET /w/x HTTP/1.1\r\nHost: example.com\r\n\r\n", nil),
        ("GET http://api.example.com/w HTTP/1.1\r\nHost: elsewhere\r\n\r\n", "wild"),
        ("GET /api/x HTTP/1.1\r\nHost: a\r\nX-Canary: 1\r\n\r\n", "canary"),
        ("GET /api/x HTTP/1.1\r\nHost: a\r\nX-Canary: 2\r\n\r\n", "api"),
        ("PUT /api HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", "api-put"),
        ("PURGE /api HTTP/1.1\r\nHost: a\r\n\r\n", "api-put"),
        ("GET /api HTTP/1.1\r\nHost: a\r\n\r\n", "api"),
        ("GET /apix HTTP/1.1\r\nHost: a\r\n\r\n", nil),
        ("GET /api/./x/../y HTTP/1.1\r\nHost: a\r\n\r\n", "api"),
    ]

    @Test(arguments: cases.indices)
    func firstMatchWins(_ index: Int) throws {
        let (request, expected) = Self.cases[index]
        let config = try routesConfig(Self.routes)
        let matched = try withRequest(request) { view in
            let path = try normalized(view)
            return path.withUnsafeBytes {
                Router.match(config.listeners[0].routes, request: view, path: $0)?.config.name
            }
        }
        #expect(matched == expected, "\(request.debugDescription)")
    }
}
