import Foundation
import Glibc
import MeshSync

/// A tiny key-set server for JWT tests on 127.0.0.1:`port`: answers every request with the current `document`
/// (`200`, `application/json`, `Connection: close`) and counts the requests. It can be taken down (the port then
/// refuses connections) and brought back up on the same port, and the document can be swapped at any time
/// (key rotation). One accept thread, one request per connection. Always call `shutdown()`.
public final class JWKSServer: Sendable {
    struct State {
        var document: String
        var fetches = 0
        var listenFD: Int32 = -1
        var generation = 0
        var threads = 0
    }

    /// The port it serves on (fixed across `stop`/`start`).
    public let port: UInt16
    private let state: Locked<State>

    /// Serves `document` on `port` (0 = a free port); with `running: false` it only reserves the number (nothing
    /// listens until `start()`).
    public init(document: String, port: UInt16 = 0, running: Bool = true) throws {
        self.port = port == 0 ? try TestSocket.freePort() : port
        state = Locked(State(document: document))
        if running { try start() }
    }

    /// The key set served from now on.
    public var document: String {
        get { state.withLock { $0.document } }
        set { state.withLock { $0.document = newValue } }
    }

    /// Requests answered so far (JWKS fetches).
    public var fetches: Int { state.withLock { $0.fetches } }

    /// Starts listening (again) on `port`; a no-op when already up.
    public func start() throws {
        if state.withLock({ $0.listenFD >= 0 }) { return }
        let (fd, _) = try TestSocket.listen(port: port)
        let generation = state.withLock { state -> Int in
            state.listenFD = fd
            state.generation += 1
            state.threads += 1
            return state.generation
        }
        Thread.detachNewThread { [self] in acceptLoop(fd: fd, generation: generation) }
    }

    /// Closes the listener, so new connections are refused; waits (bounded) for the accept thread to end.
    public func stop() {
        let fd = state.withLock { state -> Int32 in
            defer { state.listenFD = -1 }
            return state.listenFD
        }
        guard fd >= 0 else { return }
        Glibc.shutdown(fd, Int32(SHUT_RDWR))
        let deadline = TestSocket.nowMs() + 5000
        while state.withLock({ $0.threads }) > 0 && TestSocket.nowMs() < deadline { usleep(1000) }
        close(fd)
    }

    /// Same as `stop()`; the name the other test servers use.
    public func shutdown() { stop() }

    private func acceptLoop(fd listenFD: Int32, generation: Int) {
        defer { state.withLock { $0.threads -= 1 } }
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                return
            }
            let current = state.withLock { $0.generation == generation && $0.listenFD == listenFD }
            guard current else {
                close(fd)
                return
            }
            TestSocket.setTimeouts(fd, ms: 5000)
            answer(fd: fd)
            close(fd)
        }
    }

    private func answer(fd: Int32) {
        let reader = ByteReader(fd: fd)
        guard (try? reader.readHead()) != nil else { return }
        let body = state.withLock { state -> [UInt8] in
            state.fetches += 1
            return Array(state.document.utf8)
        }
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n"
            + "Connection: close\r\n\r\n"
        try? TestSocket.writeAll(fd, Array(head.utf8) + body)
    }
}
