import Glibc
import MeshSync

/// Errors from the test-support sockets and processes; every one carries enough text to read in a test log.
public struct TestSupportError: Error, CustomStringConvertible, Sendable {
    /// What failed, with errno text when a syscall failed.
    public let description: String

    /// Wraps a message.
    public init(_ description: String) { self.description = description }

    /// Builds the error for a failed syscall from the current `errno`.
    public static func system(_ call: String) -> TestSupportError {
        TestSupportError("\(call): \(String(cString: strerror(errno))) (errno \(errno))")
    }
}

/// Blocking TCP helpers over Glibc for the tests. Every socket made here has receive and send timeouts, so no
/// test can hang on a silent peer.
public enum TestSocket {
    /// The default bound on every blocking read or write (SO_RCVTIMEO / SO_SNDTIMEO).
    public static let defaultTimeoutMs = 5000

    /// Makes a `sockaddr_in` for 127.0.0.1:`port`.
    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return address
    }

    /// Binds a listening socket on 127.0.0.1:`port` (0 = any free port); returns the fd and the real port.
    public static func listen(port: UInt16 = 0, backlog: Int32 = 128) throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError.system("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = loopback(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, Glibc.listen(fd, backlog) == 0 else {
            let error = TestSupportError.system("bind/listen 127.0.0.1:\(port)")
            close(fd)
            throw error
        }
        return (fd, localPort(fd))
    }

    /// The local port a socket is bound to.
    public static func localPort(_ fd: Int32) -> UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: address.sin_port)
    }

    /// A port for a process the test starts next (the gateway binds it itself); nothing listens on it yet.
    /// Ports come from below the kernel's ephemeral range (32768+ by default), one after another from a
    /// per-process counter: a port from `listen(port: 0)`, closed and handed out, could be given by the kernel
    /// to another test's listener or to an outgoing connection before the gateway binds it (CI saw EADDRINUSE).
    /// Here only this counter hands ports out, and each one is checked free by binding it once.
    public static func freePort() throws -> UInt16 {
        for _ in 0..<PortCounter.span {
            let port = PortCounter.next()
            if let (fd, _) = try? listen(port: port, backlog: 1) {
                close(fd)
                return port
            }
        }
        throw TestSupportError("no free port in \(PortCounter.first)..<\(PortCounter.first + PortCounter.span)")
    }

    /// Connects to 127.0.0.1:`port` with read/write timeouts set; throws on refusal.
    public static func connect(port: UInt16, timeoutMs: Int = defaultTimeoutMs) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError.system("socket") }
        setTimeouts(fd, ms: timeoutMs)
        var address = loopback(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let error = TestSupportError.system("connect 127.0.0.1:\(port)")
            close(fd)
            throw error
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    /// Sets SO_RCVTIMEO and SO_SNDTIMEO to `ms`.
    public static func setTimeouts(_ fd: Int32, ms: Int) {
        var tv = timeval(tv_sec: ms / 1000, tv_usec: (ms % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Writes every byte or throws (a timeout or a reset is an error).
    public static func writeAll(_ fd: Int32, _ pointer: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < pointer.count {
            let n = send(fd, pointer.baseAddress! + offset, pointer.count - offset, Int32(MSG_NOSIGNAL))
            if n < 0 {
                if errno == EINTR { continue }
                throw TestSupportError.system("send")
            }
            offset += n
        }
    }

    /// Writes a byte array fully.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try writeAll(fd, $0) }
    }

    /// One `recv`: the byte count, 0 at end of stream; throws on timeout (EAGAIN) or other errors.
    public static func readSome(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = recv(fd, buffer.baseAddress, buffer.count, 0)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw TestSupportError("recv: timed out") }
            throw TestSupportError.system("recv")
        }
    }

    /// Closes with SO_LINGER 0, so the peer sees a TCP RST instead of a FIN.
    public static func reset(_ fd: Int32) {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close(fd)
    }

    /// The current monotonic time in milliseconds (for bounds on polling loops, never for assertions).
    public static func nowMs() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000
    }
}

/// The ports `TestSocket.freePort` hands out: 20000..<32000, starting at an offset from the pid so two test
/// processes on one machine start far apart.
private enum PortCounter {
    static let first = 20_000
    static let span = 12_000
    private static let state = Locked(Int(getpid()) &* 7919 % span)

    static func next() -> UInt16 {
        state.withLock { offset in
            offset = (offset + 1) % span
            return UInt16(first + offset)
        }
    }
}
