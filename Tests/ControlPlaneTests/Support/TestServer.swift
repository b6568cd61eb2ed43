import Glibc
import MeshSync

/// A tiny blocking HTTP server on 127.0.0.1:0 for control-plane tests: one thread, one connection at a time.
///
/// `respond` picks the reply from the request path. `goDown()` closes the listening socket, so later connects
/// are refused. Everything a reply needs is decided by the test; the server counts requests per path.
final class TestServer: @unchecked Sendable {
    enum Reply: Sendable {
        /// Write these bytes, then close.
        case raw([UInt8])
        /// Read the request and never answer (the connection stays open until `stop()`).
        case hang
    }

    private struct State {
        var listenFD: Int32 = -1
        var wantDown = false
        var stopped = false
        var hits: [String: Int] = [:]
        var hanging: [Int32] = []
    }

    let port: UInt16
    private let state = Locked(State())
    private let respond: @Sendable (String) -> Reply
    private var thread = pthread_t()

    init(_ respond: @escaping @Sendable (String) -> Reply) throws {
        self.respond = respond
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 64) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw TestFailure("cannot bind a test server: errno \(errno)")
        }
        port = UInt16(bigEndian: address.sin_port)
        state.withLock { $0.listenFD = fd }
        let unmanaged = Unmanaged.passRetained(self)
        pthread_create(
            &thread,
            nil,
            { arg in
                let server = Unmanaged<TestServer>.fromOpaque(arg!).takeRetainedValue()
                server.serve()
                return nil
            },
            unmanaged.toOpaque()
        )
    }

    /// `http://127.0.0.1:PORT` + `path`.
    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Requests received for `path` so far.
    func hits(_ path: String) -> Int { state.withLock { $0.hits[path] ?? 0 } }

    /// Closes the listening socket (on the server thread) and waits until it is closed: connects are refused.
    func goDown() {
        state.withLock { $0.wantDown = true }
        _ = waitUntil(timeoutMs: 5000) { self.state.withLock { $0.listenFD < 0 } }
    }

    /// Stops the thread and closes every socket.
    func stop() {
        state.withLock { $0.stopped = true }
        pthread_join(thread, nil)
    }

    private func serve() {
        while true {
            let (fd, stopped, wantDown) = state.withLock { ($0.listenFD, $0.stopped, $0.wantDown) }
            if stopped || wantDown, fd >= 0 {
                close(fd)
                state.withLock { $0.listenFD = -1 }
            }
            if stopped {
                for hung in state.withLock({ $0.hanging }) { close(hung) }
                return
            }
            guard fd >= 0, !wantDown else {
                _ = poll(nil, 0, 20)
                continue
            }
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 20) > 0 else { continue }
            let client = accept(fd, nil, nil)
            if client >= 0 { handle(client) }
        }
    }

    private func handle(_ client: Int32) {
        guard let path = readRequestPath(client) else {
            close(client)
            return
        }
        state.withLock { $0.hits[path, default: 0] += 1 }
        switch respond(path) {
        case .raw(let bytes):
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes {
                    send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                }
                if written <= 0 { break }
                offset += written
            }
            close(client)
        case .hang:
            state.withLock { $0.hanging.append(client) }
        }
    }

    /// Reads until the end of the head (bounded by a 2 s poll) and returns the request-target.
    private func readRequestPath(_ client: Int32) -> String? {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !received.containsHeadEnd {
            var entry = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 2000) > 0 else { return nil }
            let count = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            received += chunk[0..<count]
        }
        let line = String(decoding: received.prefix { $0 != 13 }, as: UTF8.self)
        let parts = line.split(separator: " ")
        return parts.count >= 2 ? String(parts[1]) : nil
    }
}

extension [UInt8] {
    fileprivate var containsHeadEnd: Bool {
        guard count >= 4 else { return false }
        for i in 0...(count - 4) where self[i] == 13 && self[i + 1] == 10 && self[i + 2] == 13 && self[i + 3] == 10 {
            return true
        }
        return false
    }
}

/// A test precondition that failed (setup, not an assertion).
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` every 5 ms until it holds or `timeoutMs` passed (bounded waiting, no fixed sleeps).
func waitUntil(timeoutMs: Int = 5000, _ condition: () -> Bool) -> Bool {
    var start = timespec()
    clock_gettime(CLOCK_MONOTONIC, &start)
    while !condition() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1_000_000
        if elapsed >= timeoutMs { return false }
        usleep(5000)
    }
    return true
}

/// HTTP/1.1 response bytes with a Content-Length body.
func httpResponse(status: Int = 200, reason: String = "OK", body: String, extraHeaders: String = "") -> [UInt8] {
    let bytes = Array(body.utf8)
    return Array("HTTP/1.1 \(status) \(reason)\r\nContent-Length: \(bytes.count)\r\n\(extraHeaders)\r\n".utf8) + bytes
}

/// HTTP/1.1 response bytes with the body in the given chunks.
func chunkedResponse(_ chunks: [String]) -> [UInt8] {
    var text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    for chunk in chunks { text += String(chunk.utf8.count, radix: 16) + "\r\n" + chunk + "\r\n" }
    return Array((text + "0\r\n\r\n").utf8)
}

/// A value shared between a test and its servers' threads.
final class Shared<Value: Sendable>: Sendable {
    private let storage: Locked<Value>
    init(_ value: Value) { storage = Locked(value) }
    var value: Value {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}
