import Glibc
import MeshTestSupport

/// systemd's side of `NOTIFY_SOCKET`: a Unix datagram socket bound to a path or (a name starting with `@`) in
/// the abstract namespace, collecting what the gateway sends.
final class NotifyReceiver {
    let fd: Int32
    /// The value for `NOTIFY_SOCKET`.
    let name: String
    /// Every message received so far, in order.
    private(set) var messages: [String] = []
    /// The sending process of each of `messages`.
    private(set) var senders: [pid_t] = []

    init(name: String) throws {
        self.name = name
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError.system("socket(AF_UNIX)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var raw = Array(name.utf8)
        if raw.first == UInt8(ascii: "@") { raw[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: raw) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + raw.count + (raw[0] == 0 ? 0 : 1))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else {
            close(fd)
            throw TestSupportError.system("bind \(name)")
        }
        // systemd knows who sent each message (SCM_CREDENTIALS): so does this receiver.
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    /// Receives until a message satisfies `match` (returned) or `timeoutMs` passes (nil). Earlier messages are
    /// kept in `messages`.
    func next(timeoutMs: Int = 10_000, where match: (String) -> Bool) -> String? {
        let deadline = TestSocket.nowMs() + timeoutMs
        var buffer = [UInt8](repeating: 0, count: 4096)
        while TestSocket.nowMs() < deadline {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, Int32(max(1, deadline - TestSocket.nowMs()))) > 0 else { continue }
            guard let (message, sender) = receive(into: &buffer) else { continue }
            messages.append(message)
            senders.append(sender)
            if match(message) { return message }
        }
        return nil
    }

    /// One datagram and its sender's pid (from the SCM_CREDENTIALS control message; 0 when absent).
    private func receive(into buffer: inout [UInt8]) -> (String, pid_t)? {
        // cmsghdr (len, level, type) then struct ucred (pid, uid, gid); 64 bytes hold it on every ABI.
        var control = [UInt64](repeating: 0, count: 8)
        let count = buffer.withUnsafeMutableBytes { data in
            control.withUnsafeMutableBytes { controlBytes -> Int in
                var vector = iovec(iov_base: data.baseAddress, iov_len: data.count)
                return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                    var header = msghdr()
                    header.msg_iov = vectorPointer
                    header.msg_iovlen = 1
                    header.msg_control = controlBytes.baseAddress
                    header.msg_controllen = controlBytes.count
                    return recvmsg(fd, &header, Int32(MSG_DONTWAIT))
                }
            }
        }
        guard count > 0 else { return nil }
        let sender = control.withUnsafeBytes { raw -> pid_t in
            let headerSize = MemoryLayout<cmsghdr>.size
            let header = raw.load(as: cmsghdr.self)
            // SCM_CREDENTIALS (2) and struct ucred's first field, the pid (both behind _GNU_SOURCE in C).
            guard header.cmsg_level == SOL_SOCKET, header.cmsg_type == 2 else { return 0 }
            return raw.load(fromByteOffset: headerSize, as: pid_t.self)
        }
        return (String(decoding: buffer[0..<count], as: UTF8.self), sender)
    }

    /// The next message that is not a watchdog ping.
    func nextState(timeoutMs: Int = 10_000) -> String? {
        next(timeoutMs: timeoutMs) { !$0.hasPrefix("WATCHDOG=1") }
    }
}
