import CLinux
import Glibc

/// A client socket for `sd_notify(3)`-style datagrams to a Unix socket named by a path or, with a leading
/// `@`, in the abstract namespace. Sending never blocks (a full receiver drops the message: a notification
/// must never stall the process it describes).
public final class UnixDatagram: Sendable {
    private let fd: Int32
    private let address: sockaddr_un
    private let length: socklen_t

    /// Opens the socket for `name` ("/run/systemd/notify" or "@abstract"); nil when the name does not fit
    /// `sun_path` or no socket can be made.
    public init?(name: String) {
        var raw = Array(name.utf8)
        guard !raw.isEmpty else { return nil }
        // "@name" is the abstract namespace: sun_path starts with a NUL and has no terminating NUL.
        if raw[0] == UInt8(ascii: "@") { raw[0] = 0 }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard raw.count < capacity else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { path in path.copyBytes(from: raw) }
        let type = Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue)
        guard let fd = try? Posix.socket(AF_UNIX, type, 0) else { return nil }
        self.fd = fd
        self.address = address
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        self.length = socklen_t(pathOffset + raw.count + (raw[0] == 0 ? 0 : 1))
    }

    deinit { Posix.close(fd) }

    /// Sends one datagram; throws with errno when the kernel refuses it (no listener, queue full).
    public func send(_ payload: [UInt8]) throws(SystemError) {
        var target = address
        let length = self.length
        let sent = payload.withUnsafeBytes { bytes in
            withUnsafePointer(to: &target) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), $0, length)
                }
            }
        }
        if sent < 0 { throw SystemError(errno: Glibc.errno, call: "sendto(NOTIFY_SOCKET)") }
    }
}
