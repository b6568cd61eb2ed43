import CLinux
import Glibc

/// Socket set-up that happens once per connection or listener, never per request.
public enum Sockets {
    /// A non-blocking, close-on-exec listening socket. With `reusePort`, every worker binds its own socket to
    /// the same address and the kernel spreads connections between them.
    public static func listener(_ address: SocketAddress, reusePort: Bool, backlog: Int32 = 4096)
        throws(SystemError) -> Int32
    {
        let type = Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
        let fd = try Posix.socket(address.family, type, 0)
        do {
            try Posix.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
            if reusePort { try Posix.setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1) }
            try Posix.bind(fd, address)
            try Posix.listen(fd, backlog: backlog)
        } catch {
            Posix.close(fd)
            throw error
        }
        return fd
    }

    /// A non-blocking, close-on-exec TCP socket with TCP_NODELAY, ready for `Posix.connect`.
    public static func stream(family: Int32) throws(SystemError) -> Int32 {
        let type = Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
        let fd = try Posix.socket(family, type, 0)
        setNoDelay(fd)
        return fd
    }

    /// Small responses must not wait for delayed ACKs (STYLE "Traps").
    public static func setNoDelay(_ fd: Int32) {
        _ = try? Posix.setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
    }
}
