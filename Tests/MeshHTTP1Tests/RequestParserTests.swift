import MeshHTTP1
import Testing

/// A valid request and what the parser must say about it.
struct ValidRequest: CustomTestStringConvertible, Sendable {
    var name: String
    var text: String
    var method: HTTPMethod
    var form: RequestTargetForm
    var authority: String = ""
    var path: String
    var query: String = ""
    var version: HTTPVersion = .http11
    var framing: BodyFraming = .none
    var keepAlive: Bool = true
    var expectContinue: Bool = false
    var upgrade: Bool = false
    var custom: Bool = false
    var headerCount: Int
    var testDescription: String { name }
}

let validRequests: [ValidRequest] = [
    ValidRequest(
        name: "GET origin-form", text: "GET /profiles/alice?x=1&y=2 HTTP/1.1\r\nHost: api.example.com\r\n\r\n",
        method: .get, form: .origin, path: "/profiles/alice", query: "?x=1&y=2", headerCount: 1),
    ValidRequest(
        name: "absolute-form", text: "GET http://profile:9102/x/y?q HTTP/1.1\r\nHost: other\r\nAccept: */*\r\n\r\n",
        method: .get, form: .absolute, authority: "profile:9102", path: "/x/y", query: "?q", headerCount: 2),
    ValidRequest(
        name: "absolute-form, no path, HTTPS scheme upper case",
        text: "HEAD HTTPS://Example.COM HTTP/1.1\r\nHost: example.com\r\n\r\n",
        method: .head, form: .absolute, authority: "Example.COM", path: "", headerCount: 1),
    ValidRequest(
        name: "OPTIONS *", text: "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
        method: .options, form: .asterisk, path: "", headerCount: 1),
    ValidRequest(
        name: "CONNECT authority-form", text: "CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n",
        method: .connect, form: .authority, authority: "db.internal:5432", path: "", headerCount: 1),
    ValidRequest(
        name: "HTTP/1.0 default close, no Host needed", text: "GET / HTTP/1.0\r\n\r\n",
        method: .get, form: .origin, path: "/", version: .http10, keepAlive: false, headerCount: 0),
    ValidRequest(
        name: "HTTP/1.0 keep-alive", text: "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
        method: .get, form: .origin, path: "/", version: .http10, keepAlive: true, headerCount: 1),
    ValidRequest(
        name: "HTTP/1.1 close", text: "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n",
        method: .get, form: .origin, path: "/", keepAlive: false, headerCount: 2),
    ValidRequest(
        name: "Content-Length body", text: "POST /login HTTP/1.1\r\nHost: a\r\nContent-Length: 13\r\n\r\n",
        method: .post, form: .origin, path: "/login", framing: .contentLength(13), headerCount: 2),
    ValidRequest(
        name: "chunked", text: "PUT /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n",
        method: .put, form: .origin, path: "/p", framing: .chunked, headerCount: 2),
    ValidRequest(
        name: "Expect 100-continue",
        text: "PUT /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-Continue\r\n\r\n",
        method: .put, form: .origin, path: "/p", framing: .contentLength(5), expectContinue: true, headerCount: 3),
    ValidRequest(
        name: "Upgrade websocket",
        text: "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            + "Sec-WebSocket-Version: 13\r\n\r\n",
        method: .get, form: .origin, path: "/ws", upgrade: true, headerCount: 4),
    ValidRequest(
        name: "repeated identical Content-Length",
        text: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\nContent-Length: 7, 7\r\n\r\n",
        method: .post, form: .origin, path: "/", framing: .contentLength(7), headerCount: 3),
    ValidRequest(
        name: "empty header value and custom Connection token",
        text: "DELETE /f HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nX-Blank:   \r\nConnection: x-trace\r\nX-Trace: 1\r\n\r\n",
        method: .delete, form: .origin, path: "/f", custom: true, headerCount: 5),
    ValidRequest(
        name: "many headers and a custom method",
        text: "PURGE /c HTTP/1.1\r\nHost: a\r\n" + (0..<60).map { "X-H\($0): v\($0)\r\n" }.joined() + "\r\n",
        method: .other, form: .origin, path: "/c", headerCount: 61),
]

@Suite("RequestParser: valid requests")
struct RequestParserTests {
    @Test(arguments: validRequests)
    func parsesValidRequest(_ expected: ValidRequest) throws {
        let input = GuardedBuffer(expected.text)
        let (result, headers) = parseRequest(input)
        let head = try #require(result.head, "\(result)")
        #expect(head.method == expected.method)
        #expect(input.string(0, head.methodLength) == String(expected.text.prefix { $0 != " " }))
        #expect(head.form == expected.form)
        #expect(input.string(head.authorityStart, head.authorityLength) == expected.authority)
        #expect(input.string(head.pathStart, head.pathLength) == expected.path)
        #expect(input.string(head.queryStart, head.queryLength) == expected.query)
        #expect(head.version == expected.version)
        #expect(head.framing == expected.framing)
        #expect(head.keepAlive == expected.keepAlive)
        #expect(head.expectContinue == expected.expectContinue)
        #expect(head.upgrade == expected.upgrade)
        #expect(head.connectionHasCustomTokens == expected.custom)
        #expect(head.headerCount == expected.headerCount)
        #expect(head.headLength == expected.text.utf8.count)
        if expected.version == .http11 {
            let host = headers[Int(head.hostIndex)]
            #expect(host.known == .host)
        }
    }

    @Test func headerOffsetsAndTrimming() throws {
        let input = GuardedBuffer("GET / HTTP/1.1\r\nhOsT: \t example.com \t\r\nX-A:b c\r\nX-Empty: \r\n\r\nBODY")
        let (result, headers) = parseRequest(input)
        let head = try #require(result.head)
        #expect(head.headLength == input.bytes.count - 4)
        #expect(head.hostIndex == 0)
        let texts = headers.map {
            (input.string($0.nameStart, $0.nameLength), input.string($0.valueStart, $0.valueLength))
        }
        #expect(texts.map(\.0) == ["hOsT", "X-A", "X-Empty"])
        #expect(texts.map(\.1) == ["example.com", "b c", ""])
        #expect(headers.map(\.known) == [.host, .other, .other])
        #expect(input.string(head.targetStart, head.targetLength) == "/")
    }

    @Test func longValuesWithObsTextAndTrailingWhitespace() throws {
        let value = "caf\u{E9} " + String(repeating: "0123456789", count: 5) + " \u{2713}"
        let input = GuardedBuffer("GET / HTTP/1.1\r\nHost: a\r\nX-Long:  \(value) \t \t  \r\n\r\n")
        let (result, headers) = parseRequest(input)
        _ = try #require(result.head)
        #expect(input.string(headers[1].valueStart, headers[1].valueLength) == value)
    }

    @Test func pipelinedRequestsParseOneAtATime() throws {
        let first = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
        let second = "GET /b HTTP/1.1\r\nHost: b\r\n\r\n"
        let input = GuardedBuffer(first + second)
        let (result, _) = parseRequest(input)
        let head = try #require(result.head)
        #expect(head.headLength == first.utf8.count)
        var parser = RequestParser()
        var headers = [HTTPHeaderField](repeating: .empty, count: 8)
        let rest = UnsafeRawBufferPointer(rebasing: input.bytes[head.headLength...])
        let next = headers.withUnsafeMutableBufferPointer { parser.parse(rest, headers: $0) }
        let nextHead = try #require(next.head)
        #expect(
            String(
                decoding: rest[Int(nextHead.pathStart)..<Int(nextHead.pathStart + nextHead.pathLength)],
                as: UTF8.self) == "/b")
    }

    @Test(arguments: [
        ("host", KnownHeader.host), ("CONTENT-LENGTH", .contentLength), ("Transfer-Encoding", .transferEncoding),
        ("connection", .connection), ("Keep-Alive", .keepAlive), ("Proxy-Connection", .proxyConnection),
        ("TE", .te), ("Trailer", .trailer), ("Upgrade", .upgrade), ("Expect", .expect),
        ("X-Forwarded-For", .xForwardedFor), ("X-Forwarded-Proto", .xForwardedProto),
        ("x-forwarded-host", .xForwardedHost), ("X-Request-Id", .xRequestID), ("traceparent", .traceparent),
        ("TraceState", .tracestate), ("Authorization", .authorization), ("Cookie", .cookie),
        ("Forwarded", .forwarded), ("Via", .via), ("Server", .server), ("Date", .date),
        ("X-Hostname", .other), ("Hosts", .other), ("Content-Type", .other),
    ])
    func classifiesKnownHeaders(name: String, known: KnownHeader) {
        let bytes = Array(name.utf8)
        bytes.withUnsafeBytes { #expect(KnownHeader.classify($0) == known) }
    }

    @Test func idempotentMethods() {
        // SPEC §3's retry set; TRACE is left out (see HTTPMethodTests).
        let idempotent: [HTTPMethod] = [.get, .head, .options, .put, .delete]
        let other: [HTTPMethod] = [.post, .patch, .connect, .trace, .other]
        #expect(idempotent.map(\.isIdempotent) == [true, true, true, true, true])
        #expect(other.map(\.isIdempotent) == [false, false, false, false, false])
    }

    @Test func errorStatuses() {
        #expect(HTTPParseError.uriTooLong.status == 414)
        #expect(HTTPParseError.headersTooLarge.status == 431)
        #expect(HTTPParseError.tooManyHeaders.status == 431)
        #expect(HTTPParseError.contentLengthAndTransferEncoding.status == 400)
        #expect(
            HTTPParseError.contentLengthAndTransferEncoding.reason
                == "Content-Length and Transfer-Encoding both present")
    }
}
