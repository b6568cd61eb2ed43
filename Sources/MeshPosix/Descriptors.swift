import CLinux
import Glibc

/// Descriptor plumbing for sockets this process did not open itself (systemd socket activation, a binary
/// upgrade's hand-over) and for the small blocking channels of process start-up. Never on the request path.
public enum Descriptors {
    /// Whether `fd` is open (fcntl F_GETFD answers).
    public static func isOpen(_ fd: Int32) -> Bool { fcntl(fd, F_GETFD) >= 0 }

    /// Sets or clears FD_CLOEXEC (an inherited descriptor arrives without it: exec cleared it on purpose).
    public static func setCloseOnExec(_ fd: Int32, _ on: Bool) {
        let flags = fcntl(fd, F_GETFD)
        guard flags >= 0 else { return }
        _ = fcntl(fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC)
    }

    /// Sets O_NONBLOCK on the open file description (shared with every process holding it: systemd's copy
    /// too, which never accepts on it).
    public static func setNonBlocking(_ fd: Int32) throws(SystemError) {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else {
            throw SystemError(errno: Glibc.errno, call: "fcntl(O_NONBLOCK)")
        }
    }

    /// fcntl(F_DUPFD_CLOEXEC): a close-on-exec copy numbered `minimum` or above.
    public static func duplicate(_ fd: Int32, minimum: Int32 = 3) throws(SystemError) -> Int32 {
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, minimum)
        guard copy >= 0 else { throw SystemError(errno: Glibc.errno, call: "fcntl(F_DUPFD_CLOEXEC)") }
        return copy
    }

    /// Whether `fd` is a listening stream socket (SO_ACCEPTCONN and SOCK_STREAM).
    public static func isListeningStream(_ fd: Int32) -> Bool {
        integerOption(fd, SO_ACCEPTCONN) == 1 && integerOption(fd, SO_TYPE) == Int32(SOCK_STREAM.rawValue)
    }

    private static func integerOption(_ fd: Int32, _ name: Int32) -> Int32? {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, name, &value, &length) == 0 ? value : nil
    }

    /// Waits up to `timeoutMs` for `fd` to be readable (or hung up); false on timeout. Blocking: start-up and
    /// upgrade threads only.
    public static func waitReadable(_ fd: Int32, timeoutMs: Int) -> Bool {
        let deadline = clinux_monotonic_ns() + Int64(timeoutMs) * 1_000_000
        while true {
            let left = max(0, (deadline - clinux_monotonic_ns()) / 1_000_000)
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let n = poll(&entry, 1, Int32(min(left, Int64(Int32.max))))
            if n > 0 { return true }
            if n == 0 { return false }
            if Glibc.errno != EINTR { return true }
        }
    }

    /// Reads what is there now (up to `limit` bytes) from a non-blocking descriptor: empty at end of stream or
    /// when nothing is waiting.
    public static func readNow(_ fd: Int32, limit: Int = 256) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: limit)
        let n = bytes.withUnsafeMutableBytes { raw in
            (try? Posix.read(fd, raw.baseAddress!, raw.count)).flatMap { result -> Int? in
                if case .processed(let count) = result { return count }
                return nil
            } ?? 0
        }
        return Array(bytes.prefix(n))
    }
}
