import MeshControl
import MeshEventLoop
import MeshPosix

/// What a downstream connection reads from and writes to: the client's socket (through TLS on a TLS
/// listener) or, for a connection serving one HTTP/2 stream, the in-memory pipe to the stream's bridge.
///
/// It owns the bytes read and not consumed yet (`buffer`) and the bytes queued for the client (`out`), and
/// remembers what the kernel last said: readiness is edge-triggered, so `readable`/`writable` are the last
/// word of epoll or of a read or write, and a short read means drained (no read just to see EAGAIN).
struct ClientTransport {
    var buffer = IOBuffer()
    var out = Outbound()
    var readable = false
    var writable = true
    /// The client shut down its sending side.
    var peerClosed = false
    /// TLS on a TLS listener: reads and writes go through it.
    var tls: TLSStream?
    /// The far end is an HTTP/2 stream's bridge (same thread, plaintext), not a socket.
    let pipe: StreamPipe?
    /// For a connection bridged from an h2 connection over TLS, that connection's session (its facts only).
    let bridgedTLS: TLSStream?
    /// The TLS handshake completed during the last read (the connection counts it and starts the header timeout).
    var handshakeCompleted = false

    init(tls: TLSStream?, pipe: StreamPipe?, bridgedTLS: TLSStream?) {
        self.tls = tls
        self.pipe = pipe
        self.bridgedTLS = bridgedTLS
    }

    /// The TLS session the client spoke through: this connection's own, or the h2 connection's.
    var clientTLS: TLSStream? { tls ?? bridgedTLS }

    /// Something is still to be written: queued bytes, or TLS records the socket refused earlier.
    var hasOutput: Bool { !out.isEmpty || tls?.hasPendingOutput == true }

    /// Takes in what epoll reported.
    mutating func note(_ events: IOEvents) {
        if !events.intersection([.readable, .readHangup, .hangup, .error]).isEmpty {
            readable = true
            tls?.socketReadable = true
        }
        if events.contains(.readHangup) { peerClosed = true }
        if !events.intersection([.readHangup, .hangup, .error]).isEmpty { tls?.peerHungUp = true }
        if events.contains(.writable) || events.contains(.error) { writable = true }
    }

    enum ReadOutcome {
        case data
        case drained
        case eof
        case failed
    }

    /// Reads once into `buffer` after its unconsumed bytes.
    mutating func read(fd: Int32, pool: BufferPool, nowMs: Int64) -> ReadOutcome {
        buffer.acquire(from: pool)
        if buffer.isEmpty {
            buffer.start = 0
            buffer.end = 0
        } else if buffer.spaceAtEnd == 0 {
            buffer.compact()
        }
        let space = buffer.spaceAtEnd
        guard space > 0 else { return .drained }
        let into = UnsafeMutableRawBufferPointer(start: buffer.base! + buffer.end, count: space)
        if let tls { return readTLS(tls, fd: fd, into: into, pool: pool, nowMs: nowMs) }
        if let pipe { return readPipe(pipe, into: into) }
        do {
            switch try Posix.receive(fd, into.baseAddress!, space) {
            case .wouldBlock:
                readable = false
                return .drained
            case .processed(0):
                readable = false
                peerClosed = true
                return .eof
            case .processed(let n):
                buffer.end += n
                // A short read means drained, unless the client's FIN came with the data: then read the end too.
                if n < space && !peerClosed { readable = false }
                return .data
            }
        } catch {
            readable = false
            return .failed
        }
    }

    private mutating func readTLS(
        _ tls: TLSStream, fd: Int32, into: UnsafeMutableRawBufferPointer, pool: BufferPool, nowMs: Int64
    ) -> ReadOutcome {
        let scratch = pool.take()
        defer { pool.give(scratch) }
        let staging = UnsafeMutableRawBufferPointer(start: scratch, count: pool.bufferSize)
        while true {
            switch tls.read(fd: fd, into: into, scratch: staging, nowMs: nowMs) {
            case .bytes(let n):
                buffer.end += n
                return .data
            case .established:
                handshakeCompleted = true
            case .drained:
                // libssl needs socket bytes that are not there yet (a partial record may be buffered): only a
                // readable event helps. Plaintext left over from a full `into` is returned as `.data`, which
                // keeps `readable`.
                readable = false
                return .drained
            case .eof:
                readable = false
                peerClosed = true
                return .eof
            case .failed:
                readable = false
                return .failed
            }
        }
    }

    private mutating func readPipe(_ pipe: StreamPipe, into: UnsafeMutableRawBufferPointer) -> ReadOutcome {
        switch pipe.read(into: into) {
        case .bytes(let n):
            buffer.end += n
            return .data
        case .empty:
            readable = false
            return .drained
        case .end:
            readable = false
            peerClosed = true
            return .eof
        }
    }

    /// Writes what `out` holds (and any TLS records left over).
    mutating func flush(fd: Int32, pool: BufferPool) -> Outbound.FlushResult {
        guard hasOutput else { return .done }
        guard writable else { return .blocked }
        let result: Outbound.FlushResult
        if let tls {
            result = tls.flush(&out, fd: fd)
        } else if let pipe {
            result = pipe.write(&out, pool: pool)
        } else {
            result = out.flush(fd, pool: pool)
        }
        if case .blocked = result { writable = false }
        return result
    }

    /// Nothing more is sent: TLS close_notify, then FIN (`lingering` connections still read).
    private(set) var sendingFinished = false

    mutating func finishSending(fd: Int32) {
        guard !sendingFinished else { return }
        sendingFinished = true
        tls?.closeNotify(fd: fd)
        Posix.shutdownWrite(fd)
    }

    /// Reads and drops what the client still sends; false at its end (or a reset).
    mutating func discard(fd: Int32, pool: BufferPool) -> Bool {
        let scratch = pool.take()
        defer { pool.give(scratch) }
        while true {
            switch try? Posix.receive(fd, scratch, pool.bufferSize) {
            case .wouldBlock?:
                readable = false
                return true
            case .processed(let n)? where n > 0:
                continue
            default:
                return false
            }
        }
    }

    /// The connection is closing: a TLS close_notify if the socket takes it, buffers back to the pool, and
    /// the pipe's bridge told that nobody reads or writes here any more.
    mutating func close(fd: Int32, pool: BufferPool) {
        if let tls {
            if !sendingFinished { tls.closeNotify(fd: fd) }
            tls.releaseBlock()
        }
        out.reset(pool: pool)
        buffer.release(to: pool)
        pipe?.closeInner()
    }
}
