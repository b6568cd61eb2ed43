import MeshHTTP1
import MeshProxy
import Testing

@Suite struct RequestHeadBuilderTests {
    /// The head sent upstream for `request` on the listener's first route, as text.
    func upstreamHead(
        _ request: String, route: String, listenerExtra: String = "",
        context: (RequestView) -> RequestHeadBuilder.Context
    ) throws -> String {
        let config = try routesConfig([route], listenerExtra: listenerExtra)
        let compiledRoute = config.listeners[0].routes[0]
        return try withRequest(request) { view in
            let path = try normalized(view)
            var out = [UInt8](repeating: 0, count: 4096)
            let count = path.withUnsafeBytes { p in
                out.withUnsafeMutableBytes { o in
                    var w = HeadWriter(o)
                    RequestHeadBuilder.write(
                        view, route: compiledRoute, normalizedPath: p, context: context(view),
                        tunnel: TrustBoundary.allowsTunnel(view), into: &w)
                    return w.overflowed ? -1 : w.count
                }
            }
            return String(decoding: out[0..<max(0, count)], as: UTF8.self)
        }
    }

    func plainContext(_ view: RequestView) -> RequestHeadBuilder.Context {
        RequestHeadBuilder.Context(clientIP: Array("10.0.0.7".utf8), endpointAuthority: Array("127.0.0.1:2".utf8))
    }

    @Test func rewritesPathHostAndHeaders() throws {
        let route = #"""
            {"match": {"path_prefix": "/profile"}, "upstream": "app",
             "rewrite": {"strip_prefix": "/profile", "add_prefix": "/v1", "host": "profile.internal"},
             "request_headers": {"set": {"x-env": "prod"}, "remove": ["x-debug"]}}
            """#
        let head = try upstreamHead(
            "GET /profile/a/./b?q=1 HTTP/1.1\r\nHost: api.example.com\r\nX-Debug: 1\r\nX-Env: dev\r\nAccept: */*\r\n\r\n",
            route: route, context: plainContext)
        #expect(head.hasPrefix("GET /v1/a/b?q=1 HTTP/1.1\r\nhost: profile.internal\r\n"), "\(head)")
        #expect(head.contains("Accept: */*\r\n"))
        #expect(!head.lowercased().contains("x-debug"))
        #expect(head.contains("x-env: prod\r\n") && !head.contains("dev"))
        #expect(head.contains("x-forwarded-host: api.example.com\r\n"))
        #expect(head.hasSuffix("\r\n\r\n"))
    }

    @Test func dropsHopByHopAndConnectionNamedFields() throws {
        let head = try upstreamHead(
            "GET /x HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X-Secret\r\nKeep-Alive: 5\r\nX-Secret: s\r\n"
                + "TE: trailers\r\nProxy-Connection: x\r\nTrailer: y\r\nUpgrade: h2c\r\nX-Kept: 1\r\n\r\n",
            route: #"{"match": {"path_prefix": "/"}, "upstream": "app"}"#, context: plainContext)
        for gone in ["connection", "keep-alive", "x-secret", "te:", "proxy-connection", "trailer", "upgrade"] {
            #expect(!head.lowercased().contains(gone), "\(gone) in \(head)")
        }
        #expect(head.contains("X-Kept: 1\r\n"))
    }

    @Test func appendsForwardedForAndSetsTheOthers() throws {
        let head = try upstreamHead(
            "GET /x HTTP/1.1\r\nHost: h:8080\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\n"
                + "X-Forwarded-Proto: https\r\nX-Forwarded-Host: spoofed\r\n\r\n",
            route: #"{"match": {"path_prefix": "/"}, "upstream": "app"}"#, context: plainContext)
        #expect(head.contains("x-forwarded-for: 1.1.1.1, 2.2.2.2, 10.0.0.7\r\n"), "\(head)")
        #expect(head.contains("x-forwarded-proto: http\r\n") && !head.contains("https"))
        #expect(head.contains("x-forwarded-host: h:8080\r\n") && !head.contains("spoofed"))
    }

    @Test func gatewayFieldsReplaceTheClientsAndClaimHeadersAreStripped() throws {
        let route = #"{"match": {"path_prefix": "/"}, "upstream": "app", "public": true}"#
        let listener = #", "jwt": {"provider": "idp", "claims_to_headers": {"sub": "x-user-id"}}"#
        let traceparent = Array("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".utf8)
        let id = Array("rid-1".utf8)
        let claims = Array("x-user-id: alice\r\n".utf8)
        let head = try traceparent.withUnsafeBytes { tp in
            try id.withUnsafeBytes { rid in
                try claims.withUnsafeBytes { lines in
                    try upstreamHead(
                        "GET /x HTTP/1.1\r\nHost: h\r\nX-User-Id: mallory\r\nX-Meshgate-Deadline-Ms: 999999\r\n"
                            + "Traceparent: 00-11111111111111111111111111111111-2222222222222222-01\r\nX-Request-Id: c\r\n\r\n",
                        route: route, listenerExtra: listener
                    ) { _ in
                        RequestHeadBuilder.Context(
                            clientIP: [], endpointAuthority: [], deadlineMs: 2500, traceparent: tp, requestID: rid,
                            extraLines: lines)
                    }
                }
            }
        }
        #expect(!head.contains("mallory") && !head.contains("999999") && !head.contains("1111"), "\(head)")
        #expect(head.contains("x-meshgate-deadline-ms: 2500\r\n"))
        #expect(head.contains("traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"))
        #expect(head.contains("x-request-id: rid-1\r\n") && !head.contains("x-request-id: c\r\n"))
        #expect(head.contains("x-user-id: alice\r\n"))
    }

    @Test func chunkedBodiesAndUpgradesKeepTheirFraming() throws {
        let route = #"{"match": {"path_prefix": "/"}, "upstream": "app"}"#
        let chunked = try upstreamHead(
            "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", route: route, context: plainContext)
        #expect(chunked.contains("transfer-encoding: chunked\r\n"))
        let upgrade = try upstreamHead(
            "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", route: route,
            context: plainContext)
        #expect(upgrade.contains("connection: upgrade\r\nupgrade: websocket\r\n"), "\(upgrade)")
    }
}
