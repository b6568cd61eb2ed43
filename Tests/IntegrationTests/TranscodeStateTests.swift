import MeshEventLoop
import MeshHTTP1
import MeshProxy
import MeshTranscode
import Testing

@testable import MeshGateway

/// The byte work of REST → gRPC without a socket: the REST body read whole, and the buffer rewritten as the
/// call (the rest of the transcoding is driven end to end by `TranscodeGatewayTests`).
@Suite struct TranscodeStateTests {
    private func whole(_ framing: BodyFraming, _ text: String, limit: Int = 1024) -> TranscodeState.WholeBody {
        Array(text.utf8).withUnsafeBytes { TranscodeState.wholeBody(framing, in: $0, limit: limit) }
    }

    @Test func aContentLengthBodyIsCompleteOnlyWhenAllOfItIsThere() {
        guard case .complete(let body, let end) = whole(.contentLength(5), "hello" + "GET /next") else {
            Issue.record("not complete")
            return
        }
        #expect(body == Array("hello".utf8) && end == 5)
        guard case .incomplete = whole(.contentLength(5), "hel") else {
            Issue.record("a partial body must wait")
            return
        }
    }

    @Test func aChunkedBodyIsDechunkedAndItsEndFound() {
        let text = "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
        guard case .complete(let body, let end) = whole(.chunked, text + "tail") else {
            Issue.record("not complete")
            return
        }
        #expect(body == Array("abcde".utf8) && end == text.utf8.count)
    }

    @Test func bodiesOverTheLimitAndBrokenFramingAreRefused() {
        guard case .tooLarge = whole(.contentLength(2048), "") else {
            Issue.record("a declared length over the limit")
            return
        }
        guard case .tooLarge = whole(.chunked, "800\r\n" + String(repeating: "x", count: 100), limit: 64) else {
            Issue.record("a chunk over the limit")
            return
        }
        guard case .invalid = whole(.chunked, "zz\r\n") else {
            Issue.record("a chunk size that is not hex")
            return
        }
        guard case .complete(let body, 0) = whole(.none, "GET / HTTP/1.1\r\n") else {
            Issue.record("no body")
            return
        }
        #expect(body.isEmpty)
    }

    @Test func theCallReplacesTheRequestAndKeepsWhatWasPipelinedAfterIt() throws {
        let rest = "POST /v1/things HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nGrpc-Timeout: 1S\r\nTE: x\r\nX-Keep: yes\r\n\r\n{}"
        let next = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n"
        let pool = BufferPool(bufferSize: 1024)
        var buffer = IOBuffer()
        buffer.acquire(from: pool)
        defer { buffer.release(to: pool) }
        let bytes = Array((rest + next).utf8)
        bytes.withUnsafeBytes { buffer.base!.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        buffer.end = bytes.count
        let message: [UInt8] = [0, 0, 0, 0, 2, 8, 1]
        let at = try withRequest(rest) { view in
            TranscodeState.rewriteAsCall(
                view, grpcPath: "/pkg.Svc/Get", message: message, buffer: &buffer, headOffset: 0,
                bodyEnd: rest.utf8.count)
        }
        #expect(at == 0)
        let written = Array(buffer.readable)
        let headEnd = try #require(String(decoding: written, as: UTF8.self).range(of: "\r\n\r\n"))
        let head = String(decoding: written, as: UTF8.self)[..<headEnd.lowerBound].lowercased()
        #expect(head.hasPrefix("post /pkg.svc/get http/1.1\r\n"))
        #expect(head.contains("x-keep: yes") && head.contains("host: a"))
        #expect(!head.contains("grpc-timeout") && !head.contains("te: x") && !head.contains("content-length: 2\r"))
        #expect(head.contains("content-type: application/grpc") && head.contains("content-length: 7"))
        #expect(written.suffix(next.utf8.count + message.count) == ArraySlice(message + Array(next.utf8)))
    }

    @Test func aCallThatDoesNotFitTheBufferIsRefusedAndNothingMoves() throws {
        let rest = "POST /v1/x HTTP/1.1\r\nHost: a\r\n\r\n"
        let pool = BufferPool(bufferSize: 128)
        var buffer = IOBuffer()
        buffer.acquire(from: pool)
        defer { buffer.release(to: pool) }
        let bytes = Array(rest.utf8)
        bytes.withUnsafeBytes { buffer.base!.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        buffer.end = bytes.count
        let at = try withRequest(rest) { view in
            TranscodeState.rewriteAsCall(
                view, grpcPath: "/pkg.Svc/Get", message: Array(repeating: 1, count: 200), buffer: &buffer,
                headOffset: 0, bodyEnd: bytes.count)
        }
        #expect(at == nil)
        #expect(Array(buffer.readable) == bytes)
    }
}

/// Parses `text` as a request head and hands the view (valid only inside `body`) to `body`.
private func withRequest<R>(_ text: String, _ body: (RequestView) throws -> R) throws -> R {
    let bytes = Array(text.utf8)
    let headers = UnsafeMutableBufferPointer<HTTPHeaderField>.allocate(capacity: 100)
    defer { headers.deallocate() }
    return try bytes.withUnsafeBytes { buffer in
        var parser = RequestParser()
        let parsed = parser.parse(buffer, headers: headers)
        guard case .complete(let head) = parsed else { throw UnparsedRequest() }
        return try body(RequestView(buffer: buffer, headers: headers, head: head))
    }
}

private struct UnparsedRequest: Error {
    /// The call's response head: an HTTP error is not a gRPC answer (UNAVAILABLE for the statuses gRPC maps so,
    /// UNKNOWN otherwise); a 200 with a status ends the call (Trailers-Only); a 200 without one has messages.
    @Test func aReplyHeadEndsTheCallOrHasMessagesToCollect() {
        for status in [429, 502, 503, 504] {
            #expect(TranscodeState.replyStart(status: status, grpcStatus: nil)
                == .fail(TranscodedError(code: .unavailable, message: "upstream answered HTTP \(status)")))
        }
        for status in [400, 404, 500, 201] {
            #expect(TranscodeState.replyStart(status: status, grpcStatus: 0)
                == .fail(TranscodedError(code: .unknown, message: "upstream answered HTTP \(status)")))
        }
        #expect(TranscodeState.replyStart(status: 200, grpcStatus: 5) == .ended(grpcStatus: 5))
        #expect(TranscodeState.replyStart(status: 200, grpcStatus: 0) == .ended(grpcStatus: 0))
        #expect(TranscodeState.replyStart(status: 200, grpcStatus: nil) == .collect)
    }
}
