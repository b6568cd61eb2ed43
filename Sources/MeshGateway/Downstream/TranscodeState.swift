import Glibc
import MeshEventLoop
import MeshHTTP1
import MeshProxy
import MeshTranscode

/// What a transcoded exchange (`grpc_transcode`) carries besides an ordinary one, and the byte work of
/// REST → gRPC that needs no socket: reading the REST body whole, rewriting the buffer as the call, and
/// turning the reply into the JSON answer. It exists only while such an exchange is active.
struct TranscodeState {
    /// The largest gRPC reply collected for one transcoded request (gRPC's default message limit).
    static let maxReplyBytes = 4 * 1024 * 1024 + 5

    let transcoder: Transcoder
    let binding: HTTPBinding
    /// The upstream's gRPC body, de-chunked, as it arrives.
    var reply: [UInt8] = []
    /// The JSON answer while it is queued for the client (the queue holds its address).
    var answer: StableBytes?

    /// The answer for a call that ended with `status` (nil: no grpc-status, which gRPC reads as UNKNOWN):
    /// the reply as JSON, or the error as its HTTP status and `{"code","message","error"}` body.
    func answer(status: Int?, message: String?) -> (status: Int, body: [UInt8]) {
        guard status == 0 else {
            let error = TranscodedError(grpcStatus: status.map(String.init), grpcMessage: message)
            return (error.httpStatus, error.body)
        }
        do {
            return (200, try transcoder.response(binding, grpcBody: reply))
        } catch {
            return (error.transcodedError.httpStatus, error.transcodedError.body)
        }
    }

    /// What the call's response head means before any of its body is read.
    enum ReplyStart: Equatable {
        /// Not a gRPC answer: an HTTP error status before any gRPC status says the server is not speaking gRPC
        /// (429 and the gateway-ish 502, 503, 504 as UNAVAILABLE, gRPC's own mapping; anything else UNKNOWN).
        case fail(TranscodedError)
        /// Trailers-Only: the call ended with the head's `grpc-status`, nothing follows.
        case ended(grpcStatus: Int)
        /// Messages follow: collect them (a chunked body keeps its trailers, where the status is).
        case collect
    }

    static func replyStart(status: Int, grpcStatus: Int?) -> ReplyStart {
        guard status == 200 else {
            let code: GRPCStatusCode = [429, 502, 503, 504].contains(status) ? .unavailable : .unknown
            return .fail(TranscodedError(code: code, message: "upstream answered HTTP \(status)"))
        }
        return grpcStatus.map { .ended(grpcStatus: $0) } ?? .collect
    }

    // MARK: - The REST request

    enum WholeBody {
        /// The body (de-chunked) and where the request ends in `bytes`.
        case complete(body: [UInt8], end: Int)
        case incomplete
        case invalid
        case tooLarge
    }

    /// The REST body when all of it is in `bytes` (what follows the head), within `limit` bytes.
    static func wholeBody(_ framing: BodyFraming, in bytes: UnsafeRawBufferPointer, limit: Int) -> WholeBody {
        if case .contentLength(let n) = framing, n > limit { return .tooLarge }
        var cursor = BodyCursor()
        cursor.begin(framing)
        guard !cursor.done else { return .complete(body: [], end: 0) }
        // Parsed on a copy: a chunked body is de-chunked in place, and it may still be incomplete.
        var copy = Array(bytes)
        guard let (consumed, data) = copy.withUnsafeMutableBytes({ cursor.forward($0, dechunk: framing == .chunked) })
        else { return .invalid }
        if cursor.done { return .complete(body: Array(copy[0..<data]), end: consumed) }
        return cursor.total <= limit ? .incomplete : .tooLarge
    }

    /// Replaces the REST request in `buffer` (from `headOffset` to `bodyEnd`) by its gRPC call — an HTTP/1.1
    /// `POST` head and one length-prefixed message — keeping any pipelined bytes after it. The call's offset
    /// in the buffer, or nil when it does not fit.
    static func rewriteAsCall(
        _ view: RequestView, grpcPath: String, message: [UInt8], buffer: inout IOBuffer, headOffset: Int, bodyEnd: Int
    ) -> Int? {
        var call: [UInt8] = []
        call.reserveCapacity(view.head.headLength + message.count + 96)
        call += "POST ".utf8
        call += grpcPath.utf8
        call += " HTTP/1.1\r\n".utf8
        for i in 0..<view.head.headerCount where !replacedByCall(view.name(i)) {
            call += view.name(i)
            call += ": ".utf8
            call += view.value(i)
            call += "\r\n".utf8
        }
        call += "content-type: application/grpc\r\nte: trailers\r\ncontent-length: \(message.count)\r\n\r\n".utf8
        call += message
        guard let base = buffer.base else { return nil }
        let tail = buffer.end - bodyEnd
        guard call.count + tail <= buffer.capacity else { return nil }
        let at = headOffset + call.count + tail <= buffer.capacity ? headOffset : 0
        // The pipelined tail first (it may overlap where the call goes), then the call in front of it.
        memmove(base + at + call.count, base + bodyEnd, tail)
        call.withUnsafeBytes { base.advanced(by: at).copyMemory(from: $0.baseAddress!, byteCount: call.count) }
        buffer.start = at
        buffer.end = at + call.count + tail
        return at
    }

    /// Request fields the call states itself: its framing, type and `te`, and any gRPC field a REST client
    /// sent (`grpc-timeout`, `grpc-encoding` would change how the upstream reads the message).
    static func replacedByCall(_ name: UnsafeRawBufferPointer) -> Bool {
        for dropped in droppedFields where Bytes.equalsIgnoringCase(name, dropped) { return true }
        return name.count > grpcPrefix.count
            && Bytes.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: name[0..<grpcPrefix.count]), grpcPrefix)
    }

    private static let droppedFields = [
        "content-length", "transfer-encoding", "content-type", "content-encoding", "te", "expect",
    ].map { Array($0.utf8) }
    private static let grpcPrefix = Array("grpc-".utf8)
}
