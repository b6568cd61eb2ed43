import Glibc

/// A blocking test client on 127.0.0.1 that sends exact bytes and reads responses with a deadline on every
/// read (SO_RCVTIMEO), so a test never hangs. Owns its socket; `close()` or deinit releases it.
public final class RawClient {
    /// Body bytes kept per response (the rest is only counted).
    public static let keptBodyBytes = 1 << 20

    /// The connected socket.
    public let fd: Int32
    /// The buffered reader over `fd`.
    public let reader: ByteReader
    private var closed = false

    /// Connects to 127.0.0.1:`port`; every read and write times out after `timeoutMs`.
    public init(port: UInt16, timeoutMs: Int = TestSocket.defaultTimeoutMs) throws {
        fd = try TestSocket.connect(port: port, timeoutMs: timeoutMs)
        reader = ByteReader(fd: fd)
    }

    deinit { if !closed { Glibc.close(fd) } }

    // MARK: - Sending

    /// Sends the UTF-8 bytes of `text` exactly.
    public func send(_ text: String) throws { try TestSocket.writeAll(fd, Array(text.utf8)) }

    /// Sends `bytes` exactly.
    public func send(_ bytes: [UInt8]) throws { try TestSocket.writeAll(fd, bytes) }

    /// Sends a generated `PatternBody` of `bytes` bytes, raw or as chunks of `chunkSize`, never holding it whole.
    public func sendPattern(bytes: Int, chunked: Bool, chunkSize: Int = PatternBody.blockSize) throws {
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: PatternBody.blockSize, alignment: 16)
        defer { block.deallocate() }
        var sent = 0
        while sent < bytes {
            let n = min(chunkSize, PatternBody.blockSize, bytes - sent)
            let span = UnsafeMutableRawBufferPointer(rebasing: block[0..<n])
            PatternBody.fill(span, offset: sent)
            if chunked { try send("\(String(n, radix: 16))\r\n") }
            try TestSocket.writeAll(fd, UnsafeRawBufferPointer(span))
            if chunked { try send("\r\n") }
            sent += n
        }
        if chunked { try send("0\r\n\r\n") }
    }

    // MARK: - Receiving

    /// Reads one response to a request with `method`: skips interim 1xx responses (not 101), then reads the body framed
    /// per RFC 9112 §6.3 (none for HEAD/1xx/204/304, chunked, Content-Length, else until close).
    public func readResponse(method: String = "GET") throws -> HTTPResponse {
        var head: HTTPHead
        repeat {
            guard let raw = try reader.readHead() else {
                throw TestSupportError("RawClient: connection closed before a response head")
            }
            head = HTTPHead(raw: raw)
        } while head.startLine[1].hasPrefix("1") && head.startLine[1] != "101"
        let status = Int(head.startLine[1]) ?? 0
        var kept: [UInt8] = []
        var counter = PatternCounter()
        let sink: (UnsafeRawBufferPointer) -> Void = { span in
            if kept.count < RawClient.keptBodyBytes { kept += span.prefix(RawClient.keptBodyBytes - kept.count) }
            counter.consume(span)
        }
        let framing: HTTPResponse.Framing
        if method == "HEAD" || status < 200 || status == 204 || status == 304 {
            framing = .none
        } else if head.isChunked {
            framing = .chunked
            _ = try reader.readChunked(sink: sink)
        } else if let length = head.contentLength {
            framing = .length
            try reader.readExact(length, sink: sink)
        } else {
            framing = .close
            try reader.readToEnd(sink: sink)
        }
        return HTTPResponse(
            head: head, body: kept, bodyCount: counter.count, bodyMatchesPattern: counter.intact, framing: framing)
    }

    /// Sends `text` and reads one response.
    public func request(_ text: String, method: String? = nil) throws -> HTTPResponse {
        try send(text)
        return try readResponse(method: method ?? String(text.prefix { $0 != " " }))
    }

    /// Sends `method path HTTP/1.1` with `Host: localhost` and the `extra` header lines (each ending in CRLF),
    /// and reads one response.
    public func request(_ method: String, _ path: String, extra: String = "") throws -> HTTPResponse {
        try request("\(method) \(path) HTTP/1.1\r\nHost: localhost\r\n\(extra)\r\n", method: method)
    }

    /// Whatever bytes are available next (one read), empty at end of stream.
    public func readAvailable() throws -> [UInt8] { try reader.readAvailable() }

    /// True when the server has closed the connection (end of stream or reset seen within the read timeout).
    public func serverClosed() -> Bool { reader.peerClosed() }

    // MARK: - Closing

    /// Half-closes: no more bytes will be sent.
    public func shutdownWrite() { Glibc.shutdown(fd, Int32(SHUT_WR)) }

    /// Closes normally (FIN).
    public func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }

    /// Closes with a TCP RST (SO_LINGER 0).
    public func reset() {
        guard !closed else { return }
        closed = true
        TestSocket.reset(fd)
    }
}
