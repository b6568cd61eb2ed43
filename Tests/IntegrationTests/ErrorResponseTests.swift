import MeshTestSupport
import Testing

/// SPEC §4 error table: the gateway's own errors carry `{"error":"<code>","request_id":"..."}`.
@Suite struct ErrorResponseTests {
    @Test func refusedUpstreamIs502() throws {
        let rig = try Rig(upstreams: [:], fixedPorts: ["app": try TestUpstream.refusedPort()],
                          routes: [TestConfig.route("/", to: "app")])
        expectGatewayError(try rig.get("/x"), 502, "bad_gateway")
        rig.expectCleanStop()
    }

    // Regression: integ — a partial head followed by RST sometimes gets 504 gateway_timeout after
    // connect_timeout_ms (1 s) instead of an immediate 502 (the reset is not noticed until a timer fires).
    @Test func upstreamResetBeforeACompleteHeadIs502() throws {
        let rig = try Rig(.reset(partial: Array("HTTP/1.1 200 OK\r\nContent-Le".utf8)))
        expectGatewayError(try rig.get("/x"), 502, "bad_gateway")
        rig.expectCleanStop()
    }

    @Test func noMatchingRouteIs404() throws {
        let rig = try Rig(upstreams: ["app": .echo], routes: [TestConfig.route("/api", to: "app")])
        expectGatewayError(try rig.get("/apix"), 404, "no_route")
        expectGatewayError(try rig.get("/other"), 404, "no_route")
        #expect(rig.upstream.bytesReceived == 0)
        rig.expectCleanStop()
    }

    @Test func contentLengthOverTheBodyLimitIs413() throws {
        let rig = try Rig(.echo, limits: "{ \"max_body_bytes\": 1024 }")
        let response = try rig.client().request(
            "POST /x HTTP/1.1\r\nHost: test.local\r\nContent-Length: 2048\r\n\r\n", method: "POST")
        expectGatewayError(response, 413, "payload_too_large")
        #expect(rig.upstream.requests.isEmpty)
        rig.expectCleanStop()
    }

    // Regression: integ — a chunked body over max_body_bytes is forwarded whole and the client gets 200.
    @Test func chunkedBodyOverTheLimitIs413() throws {
        let rig = try Rig(.echo, limits: "{ \"max_body_bytes\": 1024 }")
        let client = try rig.client()
        try client.send("POST /x HTTP/1.1\r\nHost: test.local\r\nTransfer-Encoding: chunked\r\n\r\n")
        try client.sendPattern(bytes: 4096, chunked: true, chunkSize: 700)
        expectGatewayError(try client.readResponse(method: "POST"), 413, "payload_too_large")
        #expect(rig.upstream.requests.isEmpty, "an over-limit body reached the upstream whole")
        rig.expectCleanStop()
    }

    @Test func headOverMaxHeaderBytesIs431() throws {
        let rig = try Rig(.echo, limits: "{ \"max_header_bytes\": 4096 }")
        let big = String(repeating: "a", count: 8000)
        expectGatewayError(try rig.get("/x", headers: "X-Big: \(big)\r\n"), 431, "headers_too_large")
        #expect(rig.upstream.bytesReceived == 0)
        rig.expectCleanStop()
    }

    @Test func requestTargetOver8KiBIs414() throws {
        let rig = try Rig(.echo)
        let path = "/" + String(repeating: "p", count: 9000)
        expectGatewayError(try rig.get(path), 414, "uri_too_long")
        #expect(rig.upstream.bytesReceived == 0)
        rig.expectCleanStop()
    }

    @Test func slowHeadersAre408() throws {
        let rig = try Rig(.echo, limits: "{ \"header_timeout_ms\": 300 }")
        let client = try rig.client()
        // Half a head, then silence: the gateway's header timer must fire (no sleep here, the read waits).
        try client.send("GET /slow HTTP/1.1\r\nHost: test.local\r\nX-Partial: ")
        expectGatewayError(try client.readResponse(), 408, "request_timeout")
        #expect(client.serverClosed())
        #expect(rig.upstream.bytesReceived == 0)
        rig.expectCleanStop()
    }

    @Test func errorBodiesAreJSONWithContentType() throws {
        let rig = try Rig(upstreams: ["app": .echo], routes: [TestConfig.route("/api", to: "app")])
        let response = try rig.get("/nothing-here")
        #expect(response.header("content-type")?.hasPrefix("application/json") == true)
        #expect(response.jsonObject != nil, "not JSON: \(response.bodyText)")
        rig.expectCleanStop()
    }
}
