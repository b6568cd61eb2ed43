import MeshHTTP1

/// Reads one response by its framing (RFC 9112 §6.3): Content-Length, chunked, or until the peer closes. Sans-IO:
/// `feed` the bytes as they arrive, `end` at EOF; the client does the reading. The head is parsed by MeshHTTP1's
/// `ResponseParser` (the gateway's own, strict about ambiguous framing), bounded by its 64 KiB head limit; the
/// body by `maxBodyBytes`. 1xx heads are skipped.
public struct ResponseReader {
    public let maxBodyBytes: Int
    private let requestMethod: HTTPMethod
    private var parser = ResponseParser()
    private var chunked = ChunkedDecoder()
    /// Bytes not yet parsed as a head (after the head: nothing, the body goes straight to `body`).
    private var received: [UInt8] = []
    private var head: (status: Int, headers: [(name: String, value: String)], framing: BodyFraming)?
    private var body: [UInt8] = []

    /// `method` is the request's (a HEAD response has no body whatever its fields say).
    public init(method: String, maxBodyBytes: Int) {
        self.requestMethod = method == "HEAD" ? .head : .get
        self.maxBodyBytes = maxBodyBytes
    }

    /// Takes the next bytes; returns the response once its framing says it is complete.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(BlockingHTTPError) -> BlockingHTTPResponse? {
        if head != nil { return try feedBody(bytes) }
        received.append(contentsOf: bytes)
        guard try parseHead() else { return nil }
        let rest = received
        received = []
        // (Array's `withUnsafeBytes` rethrows untyped: the typed error goes through a Result.)
        return try rest.withUnsafeBytes { raw in
            Result { () throws(BlockingHTTPError) in try feedBody(raw) }
        }.get()
    }

    /// The peer closed: the response if its framing allows ending here.
    public mutating func end() throws(BlockingHTTPError) -> BlockingHTTPResponse {
        guard let head else {
            throw .badResponse(received.isEmpty ? "closed without a response" : "closed in the response head")
        }
        switch head.framing {
        case .untilClose: return BlockingHTTPResponse(status: head.status, headers: head.headers, body: body)
        case .contentLength(let length): throw .badResponse("body ended after \(body.count) of \(length) bytes")
        default: throw .badResponse("closed before the last chunk")
        }
    }

    /// Parses the head once complete (skipping 1xx heads); false while more bytes are needed.
    private mutating func parseHead() throws(BlockingHTTPError) -> Bool {
        var fields = [HTTPHeaderField](repeating: .empty, count: parser.limits.maxHeaderCount)
        while true {
            let result = received.withUnsafeBytes { bytes in
                fields.withUnsafeMutableBufferPointer { parser.parse(bytes, headers: $0, requestMethod: requestMethod) }
            }
            switch result {
            case .incomplete:
                return false
            case .invalid(let error):
                throw .badResponse("\(error.reason) in the response head")
            case .complete(let parsed):
                let headers = received.withUnsafeBytes { bytes in
                    HTTPHeaderField.strings(fields[0..<parsed.headerCount], in: bytes)
                }
                received.removeFirst(parsed.headLength)
                parser.reset()
                if parsed.isInformational { continue }  // RFC 9110 §15.2: a final response follows
                if case .contentLength(let length) = parsed.framing, length > maxBodyBytes {
                    throw .tooLarge(limit: maxBodyBytes)
                }
                head = (parsed.status, headers, parsed.framing)
                return true
            }
        }
    }

    /// Body bytes after the head; the response when the framing says the body is complete.
    private mutating func feedBody(_ bytes: UnsafeRawBufferPointer) throws(BlockingHTTPError) -> BlockingHTTPResponse? {
        guard let head else { return nil }
        switch head.framing {
        case .none:
            break
        case .contentLength(let length):
            body.append(contentsOf: bytes.prefix(length - body.count))
            guard body.count == length else { return nil }
        case .chunked:
            guard try decodeChunked(bytes) else { return nil }
        case .untilClose:
            guard body.count + bytes.count <= maxBodyBytes else { throw .tooLarge(limit: maxBodyBytes) }
            body.append(contentsOf: bytes)
            return nil
        }
        return BlockingHTTPResponse(status: head.status, headers: head.headers, body: body)
    }

    /// De-chunks into `body`; true once the last chunk (and trailers) arrived.
    private mutating func decodeChunked(_ bytes: UnsafeRawBufferPointer) throws(BlockingHTTPError) -> Bool {
        var overflow = false
        let limit = maxBodyBytes
        // The decoder is mutated while its closure appends, so the body is moved out and back (no copy).
        var collected: [UInt8] = []
        swap(&collected, &body)
        let scan = chunked.decode(bytes) { data in
            if collected.count + data.count > limit { overflow = true } else { collected.append(contentsOf: data) }
        }
        body = collected
        if overflow { throw .tooLarge(limit: maxBodyBytes) }
        switch scan {
        case .needMore: return false
        case .done: return true
        case .invalid(let error): throw .badResponse(error.reason)
        }
    }
}
