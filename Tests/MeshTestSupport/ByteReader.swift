import Glibc

/// Buffered reads from a blocking socket for HTTP framing in tests: heads, lines, exact lengths, chunked
/// bodies and read-to-EOF. Every read is bounded by the socket's SO_RCVTIMEO. Not thread-safe: one owner.
public final class ByteReader {
    /// The socket read from; the reader does not close it.
    public let fd: Int32
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0

    /// Wraps `fd` with a 256 KiB buffer.
    public init(fd: Int32, capacity: Int = 256 * 1024) {
        self.fd = fd
        buffer = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Called with the size of every successful socket read (the upstream counts all bytes it receives).
    public var onRead: ((Int) -> Void)?

    /// Bytes already read from the socket but not consumed.
    public var bufferedCount: Int { end - start }

    /// Reads more bytes into the buffer; returns false at end of stream.
    private func fill() throws -> Bool {
        if start == end {
            start = 0
            end = 0
        } else if end == buffer.count {
            if start == 0 { throw TestSupportError("ByteReader: line or head longer than the buffer") }
            buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: end - start)
            end -= start
            start = 0
        }
        let n = try TestSocket.readSome(fd, UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
        end += n
        if n > 0 { onRead?(n) }
        return n > 0
    }

    /// Reads up to and including the blank line that ends an HTTP head. Returns nil when the stream ends
    /// cleanly before the first byte; throws when it ends inside a head or the head exceeds `limit`.
    public func readHead(limit: Int = 200 * 1024) throws -> [UInt8]? {
        var scanned = start
        while true {
            while scanned + 3 < end {
                if buffer[scanned] == 13, buffer[scanned + 1] == 10, buffer[scanned + 2] == 13,
                    buffer[scanned + 3] == 10
                {
                    let head = Array(buffer[start..<(scanned + 4)])
                    start = scanned + 4
                    return head
                }
                scanned += 1
            }
            if end - start > limit { throw TestSupportError("ByteReader: head over \(limit) bytes") }
            let offset = scanned - start
            guard try fill() else {
                if end == start { return nil }
                throw TestSupportError("ByteReader: stream ended inside a head (\(end - start) bytes)")
            }
            scanned = start + offset
        }
    }

    /// Reads one line ending in CRLF and returns it without the CRLF.
    public func readLine() throws -> [UInt8] {
        var scanned = start
        while true {
            while scanned + 1 < end {
                if buffer[scanned] == 13, buffer[scanned + 1] == 10 {
                    let line = Array(buffer[start..<scanned])
                    start = scanned + 2
                    return line
                }
                scanned += 1
            }
            let offset = scanned - start
            guard try fill() else { throw TestSupportError("ByteReader: stream ended inside a line") }
            scanned = start + offset
        }
    }

    /// Passes exactly `count` bytes to `sink`, in spans; throws if the stream ends first.
    public func readExact(_ count: Int, sink: (UnsafeRawBufferPointer) -> Void) throws {
        var left = count
        while left > 0 {
            if start == end, try !fill() {
                throw TestSupportError("ByteReader: stream ended with \(left) of \(count) body bytes missing")
            }
            let n = min(left, end - start)
            sink(UnsafeRawBufferPointer(rebasing: buffer[start..<(start + n)]))
            start += n
            left -= n
        }
    }

    /// Passes every byte until end of stream to `sink`.
    public func readToEnd(sink: (UnsafeRawBufferPointer) -> Void) throws {
        while true {
            if start < end {
                sink(UnsafeRawBufferPointer(rebasing: buffer[start..<end]))
                start = end
            }
            guard try fill() else { return }
        }
    }

    /// Decodes a chunked body (RFC 9112 §7.1), passing the data to `sink`; returns the trailer lines.
    public func readChunked(sink: (UnsafeRawBufferPointer) -> Void) throws -> [String] {
        while true {
            let line = try readLine()
            let sizeText = String(decoding: line.prefix { $0 != UInt8(ascii: ";") }, as: UTF8.self)
            guard let size = Int(sizeText.trimmingSpaces, radix: 16), size >= 0 else {
                throw TestSupportError("ByteReader: bad chunk size line '\(String(decoding: line, as: UTF8.self))'")
            }
            if size == 0 { break }
            try readExact(size, sink: sink)
            guard try readLine().isEmpty else { throw TestSupportError("ByteReader: chunk data not followed by CRLF") }
        }
        var trailers: [String] = []
        while true {
            let line = try readLine()
            if line.isEmpty { return trailers }
            trailers.append(String(decoding: line, as: UTF8.self))
        }
    }

    /// Reads whatever arrives until end of stream or `limit` bytes, whichever first (for raw tunnels).
    public func readUpTo(_ limit: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        while out.count < limit {
            if start == end, try !fill() { break }
            let n = min(limit - out.count, end - start)
            out += buffer[start..<(start + n)]
            start += n
        }
        return out
    }

    /// Whatever is buffered, or else the bytes of one socket read; empty at end of stream.
    public func readAvailable() throws -> [UInt8] {
        if start == end, try !fill() { return [] }
        let out = Array(buffer[start..<end])
        start = end
        return out
    }

    /// True when the peer has closed: the next read returns end of stream (or a reset) before the timeout.
    /// Bytes still buffered or arriving mean "not closed".
    public func peerClosed() -> Bool {
        if start < end { return false }
        do { return try !fill() } catch let error as TestSupportError {
            return !error.description.contains("timed out")
        } catch { return true }
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs (no Foundation on this path).
    var trimmingSpaces: String {
        let scalars = unicodeScalars.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }
        return String(String.UnicodeScalarView(scalars.reversed()))
    }
}
