import MeshConfig
import MeshEventLoop
import MeshPosix

/// One worker's keep-alive connections to one endpoint (SPEC §3: "Connection pool per worker per endpoint").
///
/// Idle connections are reused last-in first-out (the warmest socket first). `active` counts connections
/// lent to exchanges, so `max_connections` can be enforced without locks.
final class EndpointPool {
    let address: SocketAddress
    /// `host:port` as configured, for `Host` when the client sent none, and for logs.
    let authority: [UInt8]
    let label: String
    let policy: PoolConfig
    let connectTimeoutMs: Int
    private(set) var idle: [UpstreamConnection] = []
    /// Connections lent to exchanges (connecting ones included).
    private(set) var active = 0
    /// Where this pool's counts go: the worker's current telemetry, under the indexes of the current config
    /// (a reload that keeps the pool renumbers it).
    unowned(unsafe) let worker: Worker
    var slot: (upstream: Int, endpoint: Int) = (-1, -1)
    /// Exchanges waiting for a connection slot, oldest first (they give up at their route deadline).
    private var waiters: [Waiter] = []

    private struct Waiter {
        weak var connection: DownstreamConnection?
    }

    init(worker: Worker, address: SocketAddress, configured: HostPort, policy: PoolConfig, connectTimeoutMs: Int) {
        self.worker = worker
        self.address = address
        authority = Array(configured.description.utf8)
        label = configured.description
        self.policy = policy
        self.connectTimeoutMs = connectTimeoutMs
    }

    /// The most recently parked idle connection, or nil.
    func takeIdle() -> UpstreamConnection? {
        guard let connection = idle.popLast() else { return nil }
        active += 1
        report(active: 1, idle: -1)
        return connection
    }

    /// A new connection was opened for an exchange.
    func opened() {
        active += 1
        report(active: 1, idle: 0)
    }

    private func report(active: Int, idle: Int) {
        worker.telemetry.upstreamConnections(
            upstream: slot.upstream, endpoint: slot.endpoint, activeDelta: active, idleDelta: idle)
    }

    var canOpen: Bool { active + idle.count < policy.maxConnections }

    /// Parks a connection whose last response ended cleanly; closes it when `max_idle` is reached.
    func park(_ connection: UpstreamConnection, nowMs: Int64) {
        active -= 1
        if idle.count >= policy.maxIdle && waiters.isEmpty {
            report(active: -1, idle: 0)
            connection.close()
            return
        }
        report(active: -1, idle: 1)
        connection.becameIdle(deadlineMs: nowMs + Int64(policy.idleTimeoutMs))
        idle.append(connection)
        wakeWaiter()
    }

    func enqueue(_ connection: DownstreamConnection) {
        waiters.append(Waiter(connection: connection))
    }

    /// Hands the freed slot (or the parked connection) to the oldest exchange still waiting.
    private func wakeWaiter() {
        while !waiters.isEmpty {
            let waiter = waiters.removeFirst()
            if let connection = waiter.connection, connection.exchange.queued {
                connection.poolSlotFreed(self)
                return
            }
        }
    }

    /// Forgets an idle connection that closed (the upstream hung up or its idle timeout fired).
    func removeIdle(_ connection: UpstreamConnection) {
        if let i = idle.lastIndex(where: { $0 === connection }) {
            idle.remove(at: i)
            report(active: 0, idle: -1)
        }
    }

    /// An active connection ended without being parked.
    func released() {
        active -= 1
        report(active: -1, idle: 0)
        wakeWaiter()
    }

    func closeAll() {
        for connection in idle { connection.close() }
        report(active: 0, idle: -idle.count)
        idle.removeAll()
    }
}
