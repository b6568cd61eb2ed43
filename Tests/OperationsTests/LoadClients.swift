import Foundation
import Glibc
import MeshSync
import MeshTestSupport
import Synchronization

/// A bounded client loop: `clients` keep-alive connections, each on its own thread, sending `GET path` until
/// `stop()` (or `maxMs` as a safety bound). Every response must be 200 with a body in `acceptedBodies`;
/// anything else (another status, a connection error, a close without `Connection: close`) is a failure.
final class LoadClients: Sendable {
    struct Tally {
        var ok = 0
        var failed = 0
        /// The first few failures, for the message.
        var failures: [String] = []
        var running = 0
    }

    private let tally = Locked(Tally())
    private let stopping = Atomic<Bool>(false)

    /// Starts the threads at once.
    init(port: UInt16, clients: Int, path: String, acceptedBodies: Set<String>, maxMs: Int = 60_000) {
        tally.withLock { $0.running = clients }
        let deadline = TestSocket.nowMs() + maxMs
        for _ in 0..<clients {
            Thread.detachNewThread { [self] in
                loop(port: port, path: path, accepted: acceptedBodies, deadline: deadline)
                tally.withLock { $0.running -= 1 }
            }
        }
    }

    /// Responses that passed so far.
    var okCount: Int { tally.withLock { $0.ok } }

    /// Stops the loops and waits (bounded) for every thread; returns the final tally.
    func stop() -> Tally {
        stopping.store(true, ordering: .relaxed)
        Poll.until(timeoutMs: 10_000) { tally.withLock { $0.running == 0 } }
        return tally.withLock { $0 }
    }

    private func loop(port: UInt16, path: String, accepted: Set<String>, deadline: Int) {
        var client: RawClient?
        while !stopping.load(ordering: .relaxed) && TestSocket.nowMs() < deadline {
            do {
                let connection = try client ?? RawClient(port: port)
                client = connection
                let response = try connection.get(path)
                if response.status == 200 && accepted.contains(response.bodyText) {
                    tally.withLock { $0.ok += 1 }
                } else {
                    record("unexpected response: \(response)")
                }
                // The gateway may close a keep-alive connection only if it says so first (RFC 9112 §9.6).
                if response.header("connection")?.lowercased() == "close" { client = nil }
            } catch {
                record("\(error)")
                client = nil
            }
        }
    }

    private func record(_ failure: String) {
        tally.withLock {
            $0.failed += 1
            if $0.failures.count < 10 { $0.failures.append(failure) }
        }
    }
}
