import CLinux
import Glibc
import MeshPosix

/// Real descriptors and files for the funnel tests. Set-up failures throw `SystemError` so a broken
/// environment fails the test at the call that broke instead of later with a confusing expectation.
enum Fixture {
    /// Close-on-exec: tests that spawn processes run beside these, and a child that inherited the read end
    /// would keep a "reader" alive, so a write the test expects to fail with EPIPE succeeds (seen in CI).
    static func pipe(nonBlocking: Bool = false) throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard clinux_pipe2(&fds, O_CLOEXEC) == 0 else { throw SystemError(errno: errno, call: "pipe2") }
        if nonBlocking {
            setNonBlocking(fds[0])
            setNonBlocking(fds[1])
        }
        return (fds[0], fds[1])
    }

    static func socketPair(nonBlocking: Bool = true) throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        var type = Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue)
        if nonBlocking { type |= Int32(SOCK_NONBLOCK.rawValue) }
        guard socketpair(AF_UNIX, type, 0, &fds) == 0 else { throw SystemError(errno: errno, call: "socketpair") }
        return (fds[0], fds[1])
    }

    static func setNonBlocking(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    /// Bytes that differ from their neighbours, so a reordered or duplicated chunk cannot compare equal.
    static func pattern(_ count: Int, seed: Int = 0) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: ($0 &+ seed) &* 31 &+ ($0 >> 8)) }
    }

    /// A fresh file under /tmp holding `bytes`; the caller unlinks it.
    static func tempFile(_ bytes: [UInt8]) throws -> String {
        var template = Array("/tmp/meshposix-test-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw SystemError(errno: errno, call: "mkstemp") }
        defer { Glibc.close(fd) }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            guard n > 0 else {
                unlink(path)
                throw SystemError(errno: errno, call: "write")
            }
            offset += n
        }
        return path
    }

    /// Everything a non-blocking descriptor has buffered right now.
    static func drain(_ fd: Int32) throws -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let result = try chunk.withUnsafeMutableBytes { try Posix.read(fd, $0.baseAddress!, $0.count) }
            guard case .processed(let n) = result, n > 0 else { return out }
            out.append(contentsOf: chunk[0..<n])
        }
    }

    /// Polls `condition` every millisecond for at most `timeoutMs`, so no test can hang on a missed event.
    static func waitUntil(timeoutMs: Int = 3000, _ condition: () -> Bool) -> Bool {
        for _ in 0..<timeoutMs {
            if condition() { return true }
            usleep(1000)
        }
        return condition()
    }

    /// poll(2) for `events` with a timeout; the revents, 0 on timeout.
    static func poll(_ fd: Int32, _ events: Int16, timeoutMs: Int32 = 3000) -> Int16 {
        var entry = pollfd(fd: fd, events: events, revents: 0)
        return Glibc.poll(&entry, 1, timeoutMs) == 1 ? entry.revents : 0
    }

    /// A TCP socket bound to 127.0.0.1 on a kernel-chosen port and never listening: connecting to it is
    /// refused, and the port stays reserved (no other test can take it) until the caller closes it.
    static func boundNotListening() throws -> (fd: Int32, address: SocketAddress) {
        let fd = try Sockets.stream(family: AF_INET)
        do {
            try Posix.bind(fd, SocketAddress(numericHost: "127.0.0.1", port: 0)!)
        } catch {
            Posix.close(fd)
            throw error
        }
        guard let address = Posix.localAddress(fd) else {
            Posix.close(fd)
            throw SystemError(errno: errno, call: "getsockname")
        }
        return (fd, address)
    }
}
