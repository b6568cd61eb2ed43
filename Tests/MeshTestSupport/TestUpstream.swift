import Foundation
import Glibc
import MeshSync

/// A small HTTP/1.1 server for integration tests on 127.0.0.1 (a free port, read back): one thread per
/// connection, blocking sockets, records what it received and answers per its `UpstreamBehavior`.
/// Always call `shutdown()` (it closes every socket and waits, bounded, for the threads to end).
public final class TestUpstream: Sendable {
    /// Body bytes kept per request (the rest is only counted).
    public static let keptBodyBytes = 1 << 20

    struct State {
        var requests: [ReceivedRequest] = []
        var connections = 0
        var bytesReceived = 0
        var answered = 0
        var open: Set<Int32> = []
        var threads = 0
        var stopping = false
    }

    /// The port it listens on.
    public let port: UInt16
    /// What it answers.
    public let behavior: UpstreamBehavior
    private let listenFD: Int32
    let state = Locked(State())

    /// Starts listening and accepting.
    public init(_ behavior: UpstreamBehavior) throws {
        (listenFD, port) = try TestSocket.listen()
        self.behavior = behavior
        state.withLock { $0.threads = 1 }
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// A port on which nothing listens (reserved then closed), for "connection refused".
    public static func refusedPort() throws -> UInt16 { try TestSocket.freePort() }

    // MARK: - What was received

    /// Every complete request so far, in arrival order.
    public var requests: [ReceivedRequest] { state.withLock { $0.requests } }
    /// TCP connections accepted so far.
    public var connectionCount: Int { state.withLock { $0.connections } }
    /// Connections accepted and not yet closed (by either side).
    public var openConnectionCount: Int { state.withLock { $0.open.count } }
    /// Every byte read from any connection (heads, bodies, tunnelled bytes, partial requests).
    public var bytesReceived: Int { state.withLock { $0.bytesReceived } }

    /// Waits (bounded) until at least `count` requests arrived; returns them.
    @discardableResult
    public func waitForRequests(_ count: Int, timeoutMs: Int = 5000) -> [ReceivedRequest] {
        let deadline = TestSocket.nowMs() + timeoutMs
        while true {
            let current = requests
            if current.count >= count || TestSocket.nowMs() > deadline { return current }
            usleep(2000)
        }
    }

    /// Counts one answer of `failThenSucceed`; returns how many came before it.
    func countAnswer() -> Int {
        state.withLock { state in
            defer { state.answered += 1 }
            return state.answered
        }
    }

    /// Requests received for `target` (path and query) so far.
    public func hits(_ target: String) -> Int { requests.lazy.filter { $0.target == target }.count }

    /// `http://127.0.0.1:PORT` + `path`.
    public func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    // MARK: - Shutdown

    /// Stops accepting: from now on connects are refused; connections already accepted go on.
    public func stopListening() {
        state.withLock { $0.stopping = true }
        // A listening socket shut down leaves the listening state at once (SYNs get a reset) and keeps the port.
        Glibc.shutdown(listenFD, Int32(SHUT_RDWR))
    }

    /// Closes the listener and every connection, then waits up to 5 s for all threads to finish.
    public func shutdown() {
        let fds = state.withLock { state -> [Int32] in
            state.stopping = true
            return Array(state.open)
        }
        Glibc.shutdown(listenFD, Int32(SHUT_RDWR))
        for fd in fds { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
        let deadline = TestSocket.nowMs() + 5000
        while state.withLock({ $0.threads }) > 0 && TestSocket.nowMs() < deadline { usleep(1000) }
        close(listenFD)
    }

    // MARK: - Threads

    private func acceptLoop() {
        defer { state.withLock { $0.threads -= 1 } }
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                return
            }
            let id: Int? = state.withLock { state in
                if state.stopping { return nil }
                state.connections += 1
                state.open.insert(fd)
                state.threads += 1
                return state.connections
            }
            guard let id else {
                close(fd)
                return
            }
            // Idle pooled connections may sit for a while; shutdown() wakes them, so 30 s only bounds a leak.
            TestSocket.setTimeouts(fd, ms: 30_000)
            Thread.detachNewThread { [self] in serve(fd: fd, connection: id) }
        }
    }

    private func serve(fd: Int32, connection: Int) {
        let reader = ByteReader(fd: fd)
        reader.onRead = { [self] n in state.withLock { $0.bytesReceived += n } }
        var resetDone = false
        defer {
            state.withLock {
                $0.open.remove(fd)
                $0.threads -= 1
            }
            if !resetDone { close(fd) }
        }
        do {
            while let raw = try reader.readHead() {
                let request = try readBody(HTTPHead(raw: raw), reader: reader, connection: connection)
                state.withLock { $0.requests.append(request) }
                switch try answer(request, fd: fd, reader: reader) {
                case .keepAlive: continue
                case .close: return
                case .didReset:
                    resetDone = true
                    return
                }
            }
        } catch {
            return
        }
    }

    private func readBody(_ head: HTTPHead, reader: ByteReader, connection: Int) throws -> ReceivedRequest {
        var kept: [UInt8] = []
        var counter = PatternCounter()
        let sink: (UnsafeRawBufferPointer) -> Void = { span in
            if kept.count < TestUpstream.keptBodyBytes {
                kept += span.prefix(TestUpstream.keptBodyBytes - kept.count)
            }
            counter.consume(span)
        }
        var trailers: [String] = []
        if head.isChunked {
            trailers = try reader.readChunked(sink: sink)
        } else if let length = head.contentLength {
            try reader.readExact(length, sink: sink)
        }
        return ReceivedRequest(
            connection: connection, head: head, body: kept, bodyCount: counter.count,
            bodyMatchesPattern: counter.intact, chunked: head.isChunked, trailers: trailers,
            receivedAtMs: TestSocket.nowMs())
    }
}
