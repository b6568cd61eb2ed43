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
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            guard n > 0 else { continue }
            let message = String(decoding: buffer[0..<n], as: UTF8.self)
            messages.append(message)
            if match(message) { return message }
        }
        return nil
    }

    /// The next message that is not a watchdog ping.
    func nextState(timeoutMs: Int = 10_000) -> String? {
        next(timeoutMs: timeoutMs) { !$0.hasPrefix("WATCHDOG=1") }
    }
}
