import Foundation
import Glibc
import MeshSync
import MeshTestSupport
import Synchronization

/// Steady client load for the binary-upgrade tests: keep-alive clients (a new connection only after the
/// gateway says `Connection: close`) and one-shot clients (a new connection, `Connection: close`, per
/// request), each on its own thread, until `stop()`. Every answer must be 200 with `body`; a connection reset
/// is counted apart from other failures.
final class UpgradeLoad: Sendable {
    struct Tally {
        var ok = 0
        var newConnections = 0
        var failed = 0
        var resets = 0
        var failures: [String] = []
        var running = 0
    }

    private let tally = Locked(Tally())
    private let stopping = Atomic<Bool>(false)

    init(port: UInt16, keepAlive: Int, oneShot: Int, body: String, maxMs: Int = 60_000) {
        tally.withLock { $0.running = keepAlive + oneShot }
        let deadline = TestSocket.nowMs() + maxMs
        for index in 0..<(keepAlive + oneShot) {
            Thread.detachNewThread { [self] in
                run(port: port, reuse: index < keepAlive, body: body, deadline: deadline)
                tally.withLock { $0.running -= 1 }
            }
        }
    }

    var okCount: Int { tally.withLock { $0.ok } }

    /// Stops the clients and waits (bounded) for every thread; the final tally.
    func stop() -> Tally {
        stopping.store(true, ordering: .relaxed)
        Poll.until(timeoutMs: 10_000) { tally.withLock { $0.running == 0 } }
        return tally.withLock { $0 }
    }

    private func run(port: UInt16, reuse: Bool, body: String, deadline: Int) {
        var client: RawClient?
        while !stopping.load(ordering: .relaxed) && TestSocket.nowMs() < deadline {
            do {
                let connection = try client ?? RawClient(port: port)
                if client == nil { tally.withLock { $0.newConnections += 1 } }
                let closeHeader = reuse ? "" : "Connection: close\r\n"
                let response = try connection.request("GET /load HTTP/1.1\r\nHost: ops.test\r\n\(closeHeader)\r\n")
                if response.status == 200 && response.bodyText == body {
                    tally.withLock { $0.ok += 1 }
                } else {
                    record("unexpected response: \(response)", reset: false)
                }
                let closing = response.header("connection")?.lowercased() == "close"
                client = reuse && !closing ? connection : nil
            } catch {
                record("\(error)", reset: "\(error)".contains("reset"))
                client = nil
            }
        }
    }

    private func record(_ failure: String, reset: Bool) {
        tally.withLock {
            $0.failed += 1
            if reset { $0.resets += 1 }
            if $0.failures.count < 10 { $0.failures.append(failure) }
        }
    }
}
