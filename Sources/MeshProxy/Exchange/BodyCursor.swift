import Glibc
import MeshHTTP1

/// How far the body of the message being forwarded has got, in one direction.
///
/// `take` says how many of the bytes at hand belong to the body; the rest (a pipelined request) stays
/// where it is. Chunked bodies are checked by the strict decoder and forwarded as they came.
public struct BodyCursor: Sendable {
    public enum Mode: Sendable {
        case none
        case length(remaining: Int)
        case chunked
        case untilClose
    }

    public private(set) var mode: Mode = .none
    private var decoder = ChunkedDecoder()
    public private(set) var done = true
    /// Body bytes seen so far (chunk framing included).
    public private(set) var total = 0
    /// Set to `[]` after `begin` to keep a chunked body's trailer section (field lines, then the final CRLF):
    /// gRPC's `grpc-status` rides there. Nil keeps nothing; the decoder bounds its size.
    public var trailers: [UInt8]?

    public init() {}

    public mutating func begin(_ framing: BodyFraming) {
        total = 0
        trailers = nil
        switch framing {
        case .none, .contentLength(0):
            mode = .none
            done = true
        case .contentLength(let n):
            mode = .length(remaining: n)
            done = false
        case .chunked:
            mode = .chunked
            decoder.reset()
            done = false
        case .untilClose:
            mode = .untilClose
            done = false
        }
    }

    /// The number of leading bytes of `bytes` that are body; marks the body done when its end is among them.
    public mutating func take(_ bytes: UnsafeRawBufferPointer) -> Result<Int, HTTPParseError> {
        guard !done else { return .success(0) }
        switch mode {
        case .none:
            return .success(0)
        case .length(let remaining):
            let n = min(remaining, bytes.count)
            mode = .length(remaining: remaining - n)
            done = remaining == n
            total += n
            return .success(n)
        case .chunked:
            switch decoder.decode(bytes, onData: { _ in }, keepingTrailersIn: &trailers) {
            case .needMore:
                total += bytes.count
                return .success(bytes.count)
            case .done(let consumed):
                total += consumed
                done = true
                return .success(consumed)
            case .invalid(let error):
                return .failure(error)
            }
        case .untilClose:
            total += bytes.count
            return .success(bytes.count)
        }
    }

    /// What a request body step forwards: `consumed` bytes were read from the client, the first `forward` of
    /// them go upstream, and `endsBody` asks for the gateway's own final CRLF after them.
    public struct RequestStep: Sendable, Equatable {
        public var consumed: Int
        public var forward: Int
        public var endsBody: Bool

        public init(consumed: Int, forward: Int, endsBody: Bool) {
            self.consumed = consumed
            self.forward = forward
            self.endsBody = endsBody
        }
    }

    /// Like `take`, for a request body: a chunked body's trailer section is dropped (a trusted or framing field
    /// could ride in it, and nginx and Envoy do not forward request trailers either); the last chunk is
    /// forwarded and the gateway ends the body with its own CRLF.
    public mutating func takeRequest(_ bytes: UnsafeRawBufferPointer) -> Result<RequestStep, HTTPParseError> {
        guard case .chunked = mode, !done else {
            return take(bytes).map { RequestStep(consumed: $0, forward: $0, endsBody: false) }
        }
        let (scan, before) = decoder.scanUpToTrailers(bytes)
        switch scan {
        case .needMore:
            total += bytes.count
            return .success(RequestStep(consumed: bytes.count, forward: before, endsBody: false))
        case .done(let consumed):
            total += consumed
            done = true
            return .success(RequestStep(consumed: consumed, forward: before, endsBody: true))
        case .invalid(let error):
            return .failure(error)
        }
    }

    /// De-chunks in place for an HTTP/1.0 client: the data bytes are moved to the front of `bytes`.
    /// Returns (consumed, dataCount).
    public mutating func takeDechunked(_ bytes: UnsafeMutableRawBufferPointer) -> Result<(Int, Int), HTTPParseError> {
        var written = 0
        let base = bytes.baseAddress!
        let result = decoder.decode(UnsafeRawBufferPointer(bytes), onData: { data in
            if data.count > 0 {
                memmove(base + written, data.baseAddress!, data.count)
                written += data.count
            }
        }, keepingTrailersIn: &trailers)
        switch result {
        case .needMore:
            total += bytes.count
            return .success((bytes.count, written))
        case .done(let consumed):
            total += consumed
            done = true
            return .success((consumed, written))
        case .invalid(let error):
            return .failure(error)
        }
    }

    /// Takes the leading body bytes of `bytes` for forwarding: how many belong to the body, and how many of them
    /// are data for the receiver (moved to the front when `dechunk`). Nil when they break the framing.
    public mutating func forward(_ bytes: UnsafeMutableRawBufferPointer, dechunk: Bool) -> (consumed: Int, data: Int)? {
        guard !bytes.isEmpty else { return (0, 0) }
        let result: Result<(Int, Int), HTTPParseError>
        if dechunk {
            result = takeDechunked(bytes)
        } else {
            result = take(UnsafeRawBufferPointer(bytes)).map { ($0, $0) }
        }
        guard case .success(let (consumed, data)) = result else { return nil }
        return (consumed, data)
    }

    /// The sending side closed: the end of an `untilClose` body, a truncation otherwise.
    public mutating func peerClosed() -> Bool {
        if case .untilClose = mode {
            done = true
            return true
        }
        return done
    }

    public var isUntilClose: Bool {
        if case .untilClose = mode { return true }
        return false
    }
}
