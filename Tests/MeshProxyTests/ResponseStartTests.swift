import MeshHTTP1
import MeshProxy
import Testing

/// `ResponseStart`: whether a response head and the bytes read with it are forwarded, and which of those bytes
/// go to the client, decided before anything is queued (SPEC §4). Heads come from the real parser.
@Suite struct ResponseStartTests {
    /// What the decision said, with the bytes after the head as they are afterwards (de-chunked in place).
    struct Outcome {
        var start: ResponseStart
        var cursor: BodyCursor
        var afterHead: [UInt8]

        /// The data queued for the client.
        var data: String { String(decoding: afterHead[0..<start.data], as: UTF8.self) }
    }

    static let http11 = ResponseStart.Request(
        upgradeAsked: false, clientVersion: .http11, clientKeepAlive: true, clientLeaving: false, requestDone: true,
        requestAbandoned: false, grpc: false)

    /// Nil when the response is rejected.
    func start(
        _ response: String, request: ResponseStart.Request = http11, grpcStatus: Int? = nil,
        method: HTTPMethod = .get
    ) throws -> Outcome? {
        var bytes = Array(response.utf8)
        let headers = UnsafeMutableBufferPointer<HTTPHeaderField>.allocate(capacity: 100)
        defer { headers.deallocate() }
        var parser = ResponseParser()
        let parsed = bytes.withUnsafeBytes { parser.parse($0, headers: headers, requestMethod: method) }
        guard case .complete(let head) = parsed else { throw ProxyTestError.unparsed(response) }
        var cursor = BodyCursor()
        let start = bytes.withUnsafeMutableBytes { buffer in
            ResponseStart(
                head, grpcStatus: grpcStatus,
                afterHead: UnsafeMutableRawBufferPointer(rebasing: buffer[head.headLength...]), request: request,
                cursor: &cursor)
        }
        return start.map { Outcome(start: $0, cursor: cursor, afterHead: Array(bytes[head.headLength...])) }
    }

    @Test func aLengthDelimitedBodyTakesItsOwnBytesOnly() throws {
        let outcome = try #require(try start("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200"))
        #expect(outcome.start.consumed == 5 && outcome.data == "hello")
        #expect(outcome.cursor.done)
        #expect(outcome.start.plan.keepsClient && outcome.start.plan.upstreamKeepAlive)
    }

    @Test func aBodyStillToComeLeavesTheCursorOpen() throws {
        let outcome = try #require(try start("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhel"))
        #expect(outcome.start.consumed == 3 && outcome.data == "hel")
        #expect(!outcome.cursor.done)
        let head = try #require(try start("HTTP/1.1 204 No Content\r\n\r\n"))
        #expect(head.start.consumed == 0 && head.cursor.done)
    }

    @Test func aChunkedBodyGoesAsItCameToAnHTTP11Client() throws {
        let body = "5\r\nhello\r\n0\r\n\r\n"
        let outcome = try #require(try start("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body))
        #expect(!outcome.start.plan.dechunk)
        #expect(outcome.start.consumed == body.utf8.count && outcome.data == body)
        #expect(outcome.cursor.done)
    }

    @Test func aChunkedBodyIsDechunkedForAnHTTP10ClientAndTheConnectionEnds() throws {
        var request = Self.http11
        request.clientVersion = .http10
        let body = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        let outcome = try #require(
            try start("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body, request: request))
        #expect(outcome.start.plan.dechunk && !outcome.start.plan.keepsClient)
        #expect(outcome.start.consumed == body.utf8.count && outcome.data == "hello world")
        let partial = try #require(
            try start("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", request: request))
        #expect(partial.start.consumed == 6 && partial.data == "hel" && !partial.cursor.done)
    }

    /// Framing errors among the bytes read with the head: nothing has reached the client, so the attempt ends
    /// as a reset rather than as a truncated answer.
    @Test(arguments: ["zz\r\nhello\r\n", "5\r\nhelloXX", "5;\u{1}\r\nhello\r\n", "5\nhello\r\n"])
    func bodyBytesThatBreakTheChunkedFramingRejectTheResponse(body: String) throws {
        for version in [HTTPVersion.http11, .http10] {
            var request = Self.http11
            request.clientVersion = version
            #expect(try start("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body, request: request) == nil)
        }
    }

    @Test func aSwitchIsForwardedOnlyWhenAskedForAndCarriesEverythingAfter() throws {
        let response = "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n\u{1}\u{2}frame"
        #expect(try start(response) == nil)
        var request = Self.http11
        request.upgradeAsked = true
        let outcome = try #require(try start(response, request: request))
        #expect(outcome.start.plan.switching && !outcome.start.plan.upstreamKeepAlive)
        #expect(outcome.start.consumed == 7 && outcome.data == "\u{1}\u{2}frame" && !outcome.cursor.done)
    }

    /// A gRPC answer's status is in its trailers unless the head has it (Trailers-Only): only then are the
    /// trailers of a chunked body kept.
    @Test func aGRPCCallKeepsTheTrailersOfAChunkedAnswerWithoutAStatus() throws {
        var request = Self.http11
        request.grpc = true
        let response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\ngrpc-status: 14\r\n\r\n"
        let kept = try #require(try start(response, request: request))
        #expect(kept.cursor.done)
        #expect(GRPC.status(inTrailerSection: try #require(kept.cursor.trailers)) == 14)
        let withStatus = try #require(try start(response, request: request, grpcStatus: 0))
        #expect(withStatus.cursor.trailers == nil)
        let notGRPC = try #require(try start(response))
        #expect(notGRPC.cursor.trailers == nil)
    }

    @Test func aClientLeavingOrABodyLeftUnreadEndsTheClientConnection() throws {
        let response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        var leaving = Self.http11
        leaving.clientLeaving = true
        var abandoned = Self.http11
        abandoned.requestAbandoned = true
        var unread = Self.http11
        unread.requestDone = false
        for request in [leaving, abandoned, unread] {
            let outcome = try #require(try start(response, request: request))
            #expect(!outcome.start.plan.keepsClient && outcome.data == "ok")
        }
    }
}
