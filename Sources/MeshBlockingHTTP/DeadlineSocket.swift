import CLinux
import Glibc
import MeshPosix

/// Where the client reads and writes plaintext: the socket itself, or TLS over it.
protocol ByteChannel {
    /// Sends every byte of `bytes`.
    func send(_ bytes: [UInt8]) throws(BlockingHTTPError)
    /// Reads what is there, waiting for at least one byte; 0 at the end of the stream.
    func receive(into buffer: UnsafeMutableRawBufferPointer) throws(BlockingHTTPError) -> Int
}

/// One non-blocking TCP socket whose every wait is a `poll` bounded by what is left of one deadline
/// (CLOCK_MONOTONIC ms): a peer that accepts and never answers costs at most the deadline, whichever step it
/// stalls (socket timeouts would bound each call, not the exchange). Close it with `close()`.
public struct DeadlineSocket: ByteChannel {
    public let fd: Int32
    /// When the whole exchange must be done (CLOCK_MONOTONIC ms).
    public let deadline: Int64
    /// The bound `deadline` came from, for the error text.
    public let timeoutMs: Int

    public static func nowMs() -> Int64 { clinux_monotonic_ns() / 1_000_000 }

    /// A connected socket to `host:port` (an IP literal as is, else the first address getaddrinfo gives), or
    /// why not. Name resolution cannot be bounded by the deadline; use an IP literal where that matters.
    public static func connect(host: String, port: UInt16, timeoutMs: Int) throws(BlockingHTTPError) -> DeadlineSocket {
        let deadline = nowMs() + Int64(timeoutMs)
        let address = try resolve(host: host, port: port)
        let fd: Int32
        do { fd = try Sockets.stream(family: address.family) } catch { throw .system(error) }
        let socket = DeadlineSocket(fd: fd, deadline: deadline, timeoutMs: timeoutMs)
        do {
            try socket.connect(address)
        } catch {
            socket.close()
            throw error
        }
        return socket
    }

    public func close() { Posix.close(fd) }

    private static func resolve(host: String, port: UInt16) throws(BlockingHTTPError) -> SocketAddress {
        if let literal = SocketAddress(numericHost: host, port: port) { return literal }
        let addresses: [SocketAddress]
        do { addresses = try SocketAddress.resolve(host: host, port: port) } catch { throw .resolve(error.description) }
        guard let first = addresses.first else { throw .resolve("no addresses for \(host)") }
        return first
    }

    private func connect(_ address: SocketAddress) throws(BlockingHTTPError) {
        do {
            if case .processed = try Posix.connect(fd, address) { return }
        } catch {
            throw .system(error)
        }
        try wait(POLLOUT)
        let err = Posix.socketError(fd)
        if err != 0 { throw .system(SystemError(errno: err, call: "connect")) }
    }

    /// Waits for `events` on `fd` until the deadline.
    func wait(_ events: Int32) throws(BlockingHTTPError) {
        while true {
            let left = deadline - Self.nowMs()
            guard left > 0 else { throw .timeout(ms: timeoutMs) }
            var pfd = pollfd(fd: fd, events: Int16(events), revents: 0)
            let ready = poll(&pfd, 1, Int32(min(left, 1000)))
            if ready > 0 { return }
            if ready < 0, errno != EINTR { throw .system(SystemError(errno: errno, call: "poll")) }
        }
    }

    /// Sends every byte of `bytes`.
    func send(_ bytes: UnsafeRawBufferPointer) throws(BlockingHTTPError) {
        var offset = 0
        while offset < bytes.count {
            // MSG_NOSIGNAL: a peer that closed early must be an error here, not a SIGPIPE that kills the process
            // (tests and tools do not ignore SIGPIPE the way the gateway does).
            let n = Glibc.send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if n >= 0 {
                offset += n
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                try wait(POLLOUT)
            } else if errno != EINTR {
                throw .system(SystemError(errno: errno, call: "send"))
            }
        }
    }

    func send(_ bytes: [UInt8]) throws(BlockingHTTPError) {
        // Array's `withUnsafeBytes` rethrows untyped: the typed error goes through a Result.
        try bytes.withUnsafeBytes { raw in Result { () throws(BlockingHTTPError) in try send(raw) } }.get()
    }

    func receive(into buffer: UnsafeMutableRawBufferPointer) throws(BlockingHTTPError) -> Int {
        while true {
            let result: IOResult<Int>
            do {
                result = try Posix.receive(fd, buffer.baseAddress!, buffer.count)
            } catch {
                throw .system(error)
            }
            switch result {
            case .wouldBlock: try wait(POLLIN)
            case .processed(let n): return n
            }
        }
    }
}
