import MeshTestSupport
import Testing

/// Targeted cases of issue 10 (SPEC §4): each symptom once, on a real gateway and raw upstreams. The generated
/// property is `ResponseBoundaryTests`.
@Suite struct ResponseBoundaryRegressionTests {
    static let noRetry = #""retry": {"retries": 0}"#

    /// `count` pipelined GETs on one connection.
    static func pipelined(_ client: RawClient, _ path: String, _ count: Int) throws -> [HTTPResponse] {
        try client.send(String(repeating: "GET \(path) HTTP/1.1\r\nHost: test.local\r\n\r\n", count: count))
        return try (0..<count).map { _ in try client.readResponse() }
    }

    // Regression: issue 10 — an upstream `Connection: content-length` removed the copied content-length, so the
    // client took the body for the start of the next response.
    @Test func connectionNamingFramingKeepsTheClientInSync() throws {
        let rig = try Rig(
            .rawKeepAlive(
                Array(
                    "HTTP/1.1 200 OK\r\nConnection: content-length, x-request-id, connection\r\nContent-Length: 5\r\n\r\nhello"
                        .utf8)))
        for response in try Self.pipelined(try rig.client(), "/x", 3) {
            #expect(response.status == 200 && response.bodyText == "hello", "\(response)")
            #expect(response.head.headers("content-length") == ["5"], "\(response)")
            #expect(response.head.headers("x-request-id").count == 1, "\(response)")
        }
        rig.expectCleanStop()
    }

    // Regression: issue 10 — an upstream head near 64 KiB plus the route's response_headers overflowed the head
    // block, and the body went to the client without a head.
    @Test func aHeadThatCannotBeWrittenWholeIs502() throws {
        let fields = (0..<62).map { "X-F\($0): \(String(repeating: "f", count: 1000))\r\n" }.joined()
        let upstream = Array("HTTP/1.1 200 OK\r\n\(fields)Content-Length: 2\r\n\r\nok".utf8)
        let big = String(repeating: "y", count: 4000)
        let rig = try Rig(
            upstreams: ["app": .rawKeepAlive(upstream)],
            routes: [
                TestConfig.route(
                    "/edited", to: "app", Self.noRetry + #", "response_headers": {"set": {"x-big": "\#(big)"}}"#),
                TestConfig.route("/plain", to: "app", Self.noRetry),
            ])
        let client = try rig.client()
        for response in try Self.pipelined(client, "/edited", 2) { expectGatewayError(response, 502, "bad_gateway") }
        // The same head without the edits fits: the limit is the head block, not the upstream's head.
        let plain = try client.request("GET /plain HTTP/1.1\r\nHost: test.local\r\n\r\n")
        #expect(
            plain.status == 200 && plain.bodyText == "ok" && plain.head.has("x-f61"), "\(plain.head.text.prefix(200))")
        rig.upstream.waitForRequests(3)
        #expect(rig.upstream.connectionCount == 3, "the two rejected responses' connections were reused")
        rig.expectCleanStop()
    }

    // Regression: issue 10 — an invalid chunked body that arrived with the head ended in a silent close instead of
    // a 502, and chunk data longer than declared likewise.
    @Test(arguments: [
        "zz\r\nabc\r\n0\r\n\r\n", "3\r\nhello\r\n0\r\n\r\n", "-1\r\n", "5 \r\nhello\r\n", "5\r\nhelloX\r\n",
    ])
    func anInvalidChunkBeforeAnyByteReachedTheClientIs502(_ body: String) throws {
        let rig = try Rig(
            .rawKeepAlive(Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\(body)".utf8)),
            route: Self.noRetry)
        let client = try rig.client()
        for response in try Self.pipelined(client, "/x", 2) { expectGatewayError(response, 502, "bad_gateway") }
        rig.upstream.waitForRequests(2)
        #expect(rig.upstream.connectionCount == 2, "an upstream connection was reused after an invalid response")
        rig.expectCleanStop()
    }

    // Regression: issue 10 — once body bytes reached the client, a broken chunk must end the client connection so
    // the truncation is visible (the message never completes).
    @Test func anInvalidChunkAfterBytesReachedTheClientClosesIt() throws {
        let declared = 0x30000
        let data = [UInt8](repeating: 0x61, count: declared + 10)
        let rig = try Rig(
            .raw(
                Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n30000\r\n".utf8) + data
                    + Array("\r\n0\r\n\r\n".utf8)),
            route: Self.noRetry)
        let client = try rig.client()
        try client.send("GET /x HTTP/1.1\r\nHost: test.local\r\n\r\n")
        let head = try #require(try client.reader.readHead())
        #expect(HTTPHead(raw: head).startLine[1] == "200" && HTTPHead(raw: head).isChunked)
        var received = 0
        #expect(throws: (any Error).self) { _ = try client.reader.readChunked { received += $0.count } }
        #expect(received <= declared)
        #expect(client.serverClosed())
        rig.expectCleanStop()
    }

    // Regression: issue 10 — a 101 to a request that did not ask to upgrade was forwarded and the upstream
    // connection reused.
    @Test func unaskedSwitchingProtocolsIs502() throws {
        let rig = try Rig(
            .rawKeepAlive(
                Array("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n".utf8)),
            route: Self.noRetry)
        let client = try rig.client()
        for response in try Self.pipelined(client, "/x", 2) { expectGatewayError(response, 502, "bad_gateway") }
        rig.upstream.waitForRequests(2)
        #expect(rig.upstream.connectionCount == 2, "the upstream connection was reused after a 101")
        rig.expectCleanStop()
    }

    // Regression: issue 10 — a gateway error answering a HEAD request carried its JSON body, which the client
    // read as the start of the next response.
    @Test func aGatewayErrorToHeadHasNoBody() throws {
        let rig = try Rig(
            upstreams: [:], fixedPorts: ["app": try TestUpstream.refusedPort()],
            routes: [TestConfig.route("/", to: "app", Self.noRetry)])
        let client = try rig.client()
        try client.send("HEAD /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n")
        let head = try client.readResponse(method: "HEAD")
        #expect(head.status == 502 && head.bodyCount == 0 && head.head.has("content-length"), "\(head)")
        expectGatewayError(try client.readResponse(), 502, "bad_gateway")
        rig.expectCleanStop()
    }
}

/// Issue 10, fallbacks: a configured fallback is a response the gateway writes, so it is framed like one.
@Suite struct FallbackFramingTests {
    /// A gateway whose only route answers every request with `fallback` (its upstream port refuses connections).
    static func rig(_ fallback: String) throws -> Rig {
        try Rig(
            upstreams: [:], fixedPorts: ["app": try TestUpstream.refusedPort()],
            routes: [
                TestConfig.route(
                    "/", to: "app",
                    #""retry": {"retries": 0}, "fallback": "# + fallback + #", "on": ["connect-failure"]}"#)
            ])
    }

    // Regression: issue 10 — a fallback body larger than the head block was cut, with a content-length that did
    // not match what was sent.
    @Test(arguments: [0, 1, 70_000, 300_000])
    func aFallbackBodyOfAnySizeIsSentWhole(_ size: Int) throws {
        let body = String((0..<size).map { Character(UnicodeScalar(UInt8(0x61 + $0 % 26))) })
        let rig = try Self.rig(#"{"status": 200, "headers": {"content-type": "text/plain"}, "body": "\#(body)""#)
        let client = try rig.client()
        try client.send(
            "GET /a HTTP/1.1\r\nHost: t\r\n\r\nHEAD /b HTTP/1.1\r\nHost: t\r\n\r\nGET /c HTTP/1.1\r\nHost: t\r\n\r\n")
        for method in ["GET", "HEAD", "GET"] {
            let response = try client.readResponse(method: method)
            #expect(response.status == 200 && response.header("x-meshgate-fallback") == "1", "\(response)")
            #expect(response.head.headers("content-length") == ["\(size)"], "\(method): \(response.head.text)")
            #expect(response.bodyText == (method == "HEAD" ? "" : body), "\(method): \(response.bodyCount) bytes")
        }
        rig.expectCleanStop()
    }

    // Regression: issue 10 — fallback headers naming the gateway's own fields were copied next to the gateway's
    // (framing names are now refused by config validation), and a 204 fallback sent its body, which the client
    // read as the next response.
    @Test func fallbackHeadersCannotFrameAndNoContentHasNoBody() throws {
        let rig = try Self.rig(
            #"{"status": 204, "headers": {"x-request-id": "fixed", "x-meshgate-fallback": "0", "x-kept": "k"}, "body": "HTTP/1.1 200 OK\r\n\r\n""#
        )
        let client = try rig.client()
        // Three on one connection: a body sent after the 204 would be read as the second response's head.
        try client.send(String(repeating: "GET /a HTTP/1.1\r\nHost: t\r\n\r\n", count: 3))
        for _ in 0..<3 {
            let response = try client.readResponse()
            #expect(response.status == 204 && response.header("x-kept") == "k", "\(response.head.text)")
            for name in ["transfer-encoding", "content-length", "connection"] {
                #expect(!response.head.has(name), "\(name) in \(response.head.text)")
            }
            #expect(response.head.headers("x-request-id").count == 1 && response.header("x-request-id") != "fixed")
            #expect(response.head.headers("x-meshgate-fallback") == ["1"], "\(response.head.text)")
        }
        rig.expectCleanStop()
    }
}
