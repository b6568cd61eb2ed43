import MeshHTTP1
import Testing

@Suite("RequestParser: incremental parsing and limits")
struct RequestParserIncrementalTests {
    /// picohttpparser's "incomplete 1…N": every proper prefix is `.incomplete`, with a fresh parser each time,
    /// and each prefix sits right before a guard page so a read past its end crashes.
    @Test(arguments: validRequests)
    func everyProperPrefixIsIncomplete(_ request: ValidRequest) {
        let text = Array(request.text.utf8)
        let input = GuardedBuffer(text)
        var headers = [HTTPHeaderField](repeating: .empty, count: 128)
        for n in 0..<text.count {
            var parser = RequestParser()
            let prefix = GuardedBuffer(Array(text[0..<n]))
            let result = headers.withUnsafeMutableBufferPointer { parser.parse(prefix.bytes, headers: $0) }
            #expect(result.isIncomplete, "prefix \(n): \(result)")
        }
        #expect(parseRequest(input).0.head != nil)
    }

    /// Feeding the message in steps of 1…N bytes to ONE parser (which resumes its scan) gives the same head and
    /// fields as parsing it at once.
    @Test(arguments: validRequests)
    func resumedParseEqualsOneShot(_ request: ValidRequest) throws {
        let input = GuardedBuffer(request.text)
        let (whole, wholeHeaders) = parseRequest(input)
        let expected = try #require(whole.head)
        for step in 1...input.bytes.count {
            var parser = RequestParser()
            var headers = [HTTPHeaderField](repeating: .empty, count: 128)
            var n = 0
            var result: HeadParseResult<RequestHead> = .incomplete
            while result.isIncomplete && n < input.bytes.count {
                n = min(n + step, input.bytes.count)
                result = headers.withUnsafeMutableBufferPointer { parser.parse(input.prefix(n), headers: $0) }
            }
            #expect(result == .complete(expected), "step \(step)")
            #expect(Array(headers[0..<expected.headerCount]) == wholeHeaders, "step \(step)")
        }
    }

    @Test func headTooLargeIs431() {
        let limits = HTTPLimits(maxHeaderBytes: 128)
        let big = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: " + String(repeating: "p", count: 200) + "\r\n\r\n"
        let (result, _) = parseRequest(GuardedBuffer(big), limits: limits)
        #expect(result == .invalid(.headersTooLarge))
        #expect(result.error?.status == 431)
    }

    @Test func incompleteHeadAtTheLimitIs431() {
        let limits = HTTPLimits(maxHeaderBytes: 64)
        let text = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: " + String(repeating: "p", count: 40)
        let input = GuardedBuffer(text)
        var parser = RequestParser(limits: limits)
        var headers = [HTTPHeaderField](repeating: .empty, count: 8)
        let below = headers.withUnsafeMutableBufferPointer { parser.parse(input.prefix(63), headers: $0) }
        #expect(below.isIncomplete)
        let at = headers.withUnsafeMutableBufferPointer { parser.parse(input.prefix(64), headers: $0) }
        #expect(at == .invalid(.headersTooLarge))
    }

    @Test func headExactlyAtTheLimitIsAccepted() {
        let text = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
        let limits = HTTPLimits(maxHeaderBytes: text.utf8.count)
        #expect(parseRequest(GuardedBuffer(text + "extra body"), limits: limits).0.head?.headLength == text.utf8.count)
        let tooSmall = HTTPLimits(maxHeaderBytes: text.utf8.count - 1)
        #expect(parseRequest(GuardedBuffer(text), limits: tooSmall).0 == .invalid(.headersTooLarge))
    }

    @Test func longTargetIs414EvenBeforeTheLineEnds() {
        let limits = HTTPLimits(maxURIBytes: 32)
        let target = "/" + String(repeating: "a", count: 40)
        let complete = "GET \(target) HTTP/1.1\r\nHost: a\r\n\r\n"
        #expect(parseRequest(GuardedBuffer(complete), limits: limits).0 == .invalid(.uriTooLong))
        let partial = GuardedBuffer("GET \(target)")
        var parser = RequestParser(limits: limits)
        var headers = [HTTPHeaderField](repeating: .empty, count: 8)
        let result = headers.withUnsafeMutableBufferPointer { parser.parse(partial.bytes, headers: $0) }
        #expect(result == .invalid(.uriTooLong))
        #expect(result.error?.status == 414)
        let exact = "GET /" + String(repeating: "a", count: 31) + " HTTP/1.1\r\nHost: a\r\n\r\n"
        #expect(parseRequest(GuardedBuffer(exact), limits: limits).0.head != nil)
    }

    @Test func hugeTargetIs414NotA431() {
        let target = "/" + String(repeating: "a", count: 70_000)
        let (result, _) = parseRequest(GuardedBuffer("GET \(target) HTTP/1.1\r\n"))
        #expect(result == .invalid(.uriTooLong))
    }

    @Test(arguments: [(100, true), (101, false)])
    func headerCountLimit(count: Int, accepted: Bool) {
        let text = "GET / HTTP/1.1\r\nHost: a\r\n" + (1..<count).map { "X-\($0): v\r\n" }.joined() + "\r\n"
        let (result, _) = parseRequest(GuardedBuffer(text))
        if accepted {
            #expect(result.head?.headerCount == count)
        } else {
            #expect(result == .invalid(.tooManyHeaders))
            #expect(result.error?.status == 431)
        }
    }

    @Test func callerHeaderArrayIsALimitToo() {
        let text = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n"
        #expect(parseRequest(GuardedBuffer(text), capacity: 2).0 == .invalid(.tooManyHeaders))
        #expect(parseRequest(GuardedBuffer(text), capacity: 3).0.head?.headerCount == 3)
    }

    @Test func resetAllowsTheNextRequest() throws {
        let input = GuardedBuffer("GET /a HTTP/1.1\r\nHost: a\r\n\r\n")
        var parser = RequestParser()
        var headers = [HTTPHeaderField](repeating: .empty, count: 8)
        _ = headers.withUnsafeMutableBufferPointer { parser.parse(input.prefix(10), headers: $0) }
        parser.reset()
        let other = GuardedBuffer("GET /bb HTTP/1.1\r\nHost: b\r\n\r\n")
        let result = headers.withUnsafeMutableBufferPointer { parser.parse(other.bytes, headers: $0) }
        let head = try #require(result.head)
        #expect(other.string(head.pathStart, head.pathLength) == "/bb")
    }

    // Regression: fuzzer input "OPTIOecTP/1.0\r\nConnection: keep-aliive\r\n…" — a bad request line was refused
    // when fed in pieces but left waiting for the rest of the head when it arrived in one read.
    @Test(arguments: [
        ("OPTIOecTP/1.0\r\nConnection: keep-alive\r\n", HTTPParseError.invalidMethod),
        ("GET / HTTP/9.9\r\nHost: a\r\n", .invalidVersion),
        ("GET a HTTP/1.1\r\n", .invalidTarget),
    ])
    func badRequestLineIsRefusedBeforeTheHeadEnds(text: String, error: HTTPParseError) {
        #expect(parseRequest(GuardedBuffer(text)).0 == .invalid(error))
    }
}
