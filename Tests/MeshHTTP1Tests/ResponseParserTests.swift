import MeshHTTP1
import Testing

/// A valid response, the request method it answers, and what the parser must decide.
struct ValidResponse: CustomTestStringConvertible, Sendable {
    var name: String
    var text: String
    var method: HTTPMethod = .get
    var status: Int
    var reason: String
    var version: HTTPVersion = .http11
    var framing: BodyFraming
    var keepAlive: Bool = true
    var informational: Bool = false
    var testDescription: String { name }
}

let validResponses: [ValidResponse] = [
    ValidResponse(
        name: "200 with Content-Length", text: "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n",
        status: 200, reason: "OK", framing: .contentLength(12)),
    ValidResponse(
        name: "chunked", text: "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n",
        status: 201, reason: "Created", framing: .chunked),
    ValidResponse(
        name: "close-delimited", text: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n",
        status: 200, reason: "OK", framing: .untilClose, keepAlive: false),
    ValidResponse(
        name: "HTTP/1.0 with keep-alive and length",
        text: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\n",
        status: 200, reason: "OK", version: .http10, framing: .contentLength(3)),
    ValidResponse(
        name: "HTTP/1.0 default close", text: "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        status: 404, reason: "Not Found", version: .http10, framing: .contentLength(0), keepAlive: false),
    ValidResponse(
        name: "204 ignores Content-Length", text: "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
        status: 204, reason: "No Content", framing: .none),
    ValidResponse(
        name: "304 bodiless", text: "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n",
        status: 304, reason: "Not Modified", framing: .none),
    ValidResponse(
        name: "HEAD response bodiless", text: "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
        method: .head, status: 200, reason: "OK", framing: .none),
    ValidResponse(
        name: "100 Continue", text: "HTTP/1.1 100 Continue\r\n\r\n",
        status: 100, reason: "Continue", framing: .none, informational: true),
    ValidResponse(
        name: "101 Switching Protocols",
        text: "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        status: 101, reason: "Switching Protocols", framing: .none),
    ValidResponse(
        name: "2xx to CONNECT is a tunnel", text: "HTTP/1.1 200 Connection established\r\n\r\n",
        method: .connect, status: 200, reason: "Connection established", framing: .none),
    ValidResponse(
        name: "empty reason", text: "HTTP/1.1 503 \r\nContent-Length: 0\r\n\r\n",
        status: 503, reason: "", framing: .contentLength(0)),
    ValidResponse(
        name: "no SP before empty reason", text: "HTTP/1.1 502\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        status: 502, reason: "", framing: .contentLength(0), keepAlive: false),
]

@Suite("ResponseParser")
struct ResponseParserTests {
    @Test(arguments: validResponses)
    func parsesValidResponse(_ expected: ValidResponse) throws {
        let input = GuardedBuffer(expected.text)
        let (result, _) = parseResponse(input, method: expected.method)
        let head = try #require(result.head, "\(result)")
        #expect(head.status == expected.status)
        #expect(input.string(head.reasonStart, head.reasonLength) == expected.reason)
        #expect(head.version == expected.version)
        #expect(head.framing == expected.framing)
        #expect(head.keepAlive == expected.keepAlive)
        #expect(head.isInformational == expected.informational)
        #expect(head.headLength == expected.text.utf8.count)
    }

    @Test(arguments: validResponses)
    func everyProperPrefixIsIncompleteAndStepsAgree(_ expected: ValidResponse) throws {
        let input = GuardedBuffer(expected.text)
        let whole = try #require(parseResponse(input, method: expected.method).0.head)
        var headers = [HTTPHeaderField](repeating: .empty, count: 16)
        var resumed = ResponseParser()
        for n in 0..<input.bytes.count {
            var fresh = ResponseParser()
            let guarded = GuardedBuffer(Array(input.prefix(n)))
            let a = headers.withUnsafeMutableBufferPointer {
                fresh.parse(guarded.bytes, headers: $0, requestMethod: expected.method)
            }
            let b = headers.withUnsafeMutableBufferPointer {
                resumed.parse(input.prefix(n), headers: $0, requestMethod: expected.method)
            }
            #expect(a.isIncomplete && b.isIncomplete, "prefix \(n)")
        }
        let last = headers.withUnsafeMutableBufferPointer {
            resumed.parse(input.bytes, headers: $0, requestMethod: expected.method)
        }
        #expect(last == .complete(whole))
    }

    @Test func continueThenFinalResponseOnOneConnection() throws {
        let interim = "HTTP/1.1 100 Continue\r\n\r\n"
        let final = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        let input = GuardedBuffer(interim + final)
        var parser = ResponseParser()
        var headers = [HTTPHeaderField](repeating: .empty, count: 8)
        let first = try #require(
            headers.withUnsafeMutableBufferPointer {
                parser.parse(input.bytes, headers: $0, requestMethod: .put)
            }.head)
        #expect(first.isInformational && first.status == 100)
        let rest = UnsafeRawBufferPointer(rebasing: input.bytes[first.headLength...])
        let second = try #require(
            headers.withUnsafeMutableBufferPointer {
                parser.parse(rest, headers: $0, requestMethod: .put)
            }.head)
        #expect(second.status == 200 && !second.isInformational)
        #expect(second.framing == .contentLength(2))
        #expect(first.headLength + second.headLength + 2 == input.bytes.count)
    }

    @Test(arguments: [
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            HTTPParseError.contentLengthAndTransferEncoding
        ),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", .conflictingContentLength),
        ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", .invalidContentLength),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", .unsupportedTransferEncoding),
        ("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", .unsupportedTransferEncoding),
        ("HTTP/1.1 099 Low\r\n\r\n", .invalidStatus),
        ("HTTP/1.1 600 High\r\n\r\n", .invalidStatus),
        ("HTTP/1.1 20 OK\r\n\r\n", .invalidStatus),
        ("HTTP/1.1 2000 OK\r\n\r\n", .invalidStatus),
        ("HTTP/1.1 200 O\u{1}K\r\n\r\n", .invalidStatus),
        ("HTTP/1.1 200 O\0K\r\n\r\n", .nulInHead),
        ("HTTP/1.2 200 OK\r\n\r\n", .invalidVersion),
        ("HTTP/2 200 OK\r\n\r\n", .invalidVersion),
        ("SSH-2.0-OpenSSH_9.2", .invalidVersion),
        ("HTTP/1.1 200 OK\r\nX : y\r\n\r\n", .whitespaceBeforeColon),
        ("HTTP/1.1 200 OK\r\nX: y\r\n z\r\n\r\n", .obsFold),
        ("HTTP/1.1 200 OK\nX: y\r\n\r\n", .bareLF),
        ("HTTP/1.1 200 OK\r\nX: y\rz\r\n\r\n", .bareCR),
    ])
    func rejectsMalformedResponses(text: String, error: HTTPParseError) {
        #expect(parseResponse(GuardedBuffer(text)).0 == .invalid(error))
    }

    @Test func oversizedResponseHeadIs431() {
        let text = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "v", count: 70_000)
        #expect(parseResponse(GuardedBuffer(text)).0 == .invalid(.headersTooLarge))
    }

    @Test(arguments: ["HTTP/1.1 2x0 OK\r\nContent-Length: 1\r\n", "HTTP/1.1 200 O\u{1}K\r\n", "HTTX", "<html>"])
    func badStatusLineIsRefusedBeforeTheHeadEnds(text: String) {
        #expect(parseResponse(GuardedBuffer(text)).0.error != nil)
    }
}
