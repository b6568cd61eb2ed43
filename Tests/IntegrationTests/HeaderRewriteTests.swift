import MeshTestSupport
import Testing

/// SPEC §3 `rewrite`, `request_headers`, `response_headers`; SPEC §4 hop-by-hop, X-Forwarded-*, path
/// normalization, absolute-form.
@Suite struct HeaderRewriteTests {
    static let rewriteRoute = """
        "rewrite": { "strip_prefix": "/svc", "add_prefix": "/v1", "host": "backend.internal" },
        "request_headers": { "set": { "x-env": "test" }, "remove": ["x-debug"] },
        "response_headers": { "set": { "x-served-by": "meshgate" }, "remove": ["server"] }
        """

    /// RFC 9110 §7.6.1: these are meaningful only for one connection and must not be forwarded.
    static let hopByHop = [
        "connection", "keep-alive", "te", "trailer", "upgrade", "proxy-connection", "transfer-encoding",
    ]

    @Test func requestIsRewrittenAndHopByHopHeadersAreDropped() throws {
        let rig = try Rig(
            upstreams: ["app": .fixed(UpstreamReply(body: "ok"))],
            routes: [TestConfig.route("/svc", to: "app", Self.rewriteRoute)])
        let response = try rig.client().request(
            "GET /svc/items?q=1 HTTP/1.1\r\nHost: public.example\r\nX-Debug: 1\r\nX-Keep: yes\r\n"
                + "X-Env: client-value\r\nConnection: keep-alive, X-Hop\r\nX-Hop: secret\r\n"
                + "Keep-Alive: timeout=5\r\nTE: trailers\r\n"
                + "Trailer: X-T\r\nUpgrade: h2c\r\nProxy-Connection: keep-alive\r\n"
                + "X-Forwarded-For: 203.0.113.7\r\n\r\n")
        #expect(response.status == 200)
        let received = try #require(rig.upstream.requests.first)
        #expect(received.target == "/v1/items?q=1")
        #expect(received.head.headers("host") == ["backend.internal"])
        #expect(received.head.headers("x-env") == ["test"], "set must replace the client's value")
        #expect(!received.head.has("x-debug"))
        #expect(received.head.header("x-keep") == "yes")
        #expect(!received.head.has("x-hop"), "a header named in Connection was forwarded")
        for name in Self.hopByHop {
            #expect(!received.head.has(name), "hop-by-hop \(name) forwarded:\n\(received.head.text)")
        }
        #expect(received.head.forwardedFor == ["203.0.113.7", "127.0.0.1"], "\(received.head.text)")
        #expect(received.head.headers("x-forwarded-proto") == ["http"])
        #expect(received.head.headers("x-forwarded-host") == ["public.example"])
        rig.expectCleanStop()
    }

    @Test func responseHeadersAreRewrittenAndHopByHopHeadersAreDropped() throws {
        let reply = UpstreamReply(
            headers: [("Server", "test-upstream"), ("X-Keep", "1"), ("X-Served-By", "upstream"),
                      ("Connection", "keep-alive, X-Secret-Hop"), ("X-Secret-Hop", "1"),
                      ("Keep-Alive", "timeout=5"), ("Trailer", "X-T"),
                      ("Proxy-Connection", "keep-alive"), ("Upgrade", "h2c")],
            body: "payload")
        let rig = try Rig(
            upstreams: ["app": .fixed(reply)], routes: [TestConfig.route("/svc", to: "app", Self.rewriteRoute)])
        let response = try rig.get("/svc/x")
        #expect(response.status == 200)
        #expect(response.bodyText == "payload")
        #expect(response.head.headers("x-served-by") == ["meshgate"], "set must replace the upstream's value")
        #expect(response.header("x-keep") == "1")
        #expect(response.header("server") == nil)
        #expect(response.header("x-secret-hop") == nil, "a header named in the upstream's Connection leaked")
        for name in ["keep-alive", "trailer", "proxy-connection", "upgrade"] {
            #expect(response.header(name) == nil, "hop-by-hop \(name) forwarded:\n\(response.head.text)")
        }
        // The gateway may send its own Connection header, but never the upstream's tokens.
        #expect(response.head.headers("connection").allSatisfy { !$0.lowercased().contains("x-secret-hop") })
        rig.expectCleanStop()
    }

    @Test func severalForwardedForHeadersAreKeptInOrder() throws {
        let rig = try Rig(.echo)
        _ = try rig.get(
            "/x", headers: "X-Forwarded-For: 198.51.100.1\r\nX-Forwarded-For: 198.51.100.2, 198.51.100.3\r\n")
        let received = try #require(rig.upstream.requests.first)
        let expected = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "127.0.0.1"]
        #expect(received.head.forwardedFor == expected, "\(received.head)")
        rig.expectCleanStop()
    }

    @Test func dotSegmentsAreRemovedBeforeRoutingAndForwarding() throws {
        let rig = try Rig(
            upstreams: ["exact": .echo, "rest": .echo],
            routes: [
                "{ \"match\": { \"path\": \"/a/c\" }, \"upstream\": \"exact\" }", TestConfig.route("/", to: "rest"),
            ])
        let response = try rig.get("/a/./b/../c")
        #expect(response.status == 200)
        #expect(rig.upstreams["exact"]!.requests.map(\.target) == ["/a/c"])
        #expect(rig.upstreams["rest"]!.requests.isEmpty)
        rig.expectCleanStop()
    }

    @Test(arguments: ["/../x", "/a/../../x", "/%2e%2e/x"])
    func pathClimbingAboveRootIs400(path: String) throws {
        let rig = try Rig(.echo)
        let response = try rig.get(path)
        expectGatewayError(response, 400, "bad_request")
        #expect(rig.upstream.bytesReceived == 0)
        rig.expectCleanStop()
    }

    @Test func absoluteFormIsRoutedByItsHost() throws {
        let rig = try Rig(
            upstreams: ["alpha": .echo, "other": .echo],
            routes: [
                "{ \"match\": { \"path_prefix\": \"/\", \"host\": \"alpha.test\" }, \"upstream\": \"alpha\" }",
                TestConfig.route("/", to: "other"),
            ])
        let response = try rig.client().request("GET http://alpha.test/x?y=1 HTTP/1.1\r\nHost: beta.test\r\n\r\n")
        #expect(response.status == 200)
        #expect(rig.upstreams["other"]!.requests.isEmpty, "routed by the Host header instead of the URL's host")
        let received = try #require(rig.upstreams["alpha"]!.requests.first)
        #expect(received.target == "/x?y=1")
        #expect(received.head.headers("host") == ["alpha.test"])
        rig.expectCleanStop()
    }
}

extension HTTPHead {
    /// Every `X-Forwarded-For` element in order, over all the header's lines.
    var forwardedFor: [String] {
        headers("x-forwarded-for").joined(separator: ",").split(separator: ",").map {
            String($0.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
        }
    }
}
