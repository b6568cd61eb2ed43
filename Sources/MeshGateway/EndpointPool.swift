import Glibc
import MeshConfig
import MeshControl
import MeshEventLoop
import MeshPosix
import MeshTLS

/// One worker's keep-alive connections to one endpoint (SPEC §3: "Connection pool per worker per endpoint").
///
/// Idle connections are reused last-in first-out (the warmest socket first). `active` counts connections
/// lent to exchanges, so `max_connections` can be enforced without locks.
///
/// Lifetime: the generations that use the pool, exchanges (through their `UpstreamRuntime`) and its
/// connections hold it strongly. A reload or DNS change that drops it calls `retire()`: from then on it
/// parks nothing (a connection handed back by an exchange that was in flight is closed), so it is freed once
/// the last of them lets go.
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
    /// (a reload that keeps the pool renumbers it). The worker lives as long as the process.
    unowned(unsafe) let worker: Worker
    /// No generation uses the pool any more: nothing is parked, counts are no longer reported.
    private(set) var retired = false
    var slot: (upstream: Int, endpoint: Int) = (-1, -1)
    /// Exchanges waiting for a connection slot, oldest first (they give up at their route deadline).
    private var waiters: [Waiter] = []

    private struct Waiter {
        weak var connection: DownstreamConnection?
    }

    /// The address of an endpoint whose name has not resolved yet (no family): nothing connects to it.
    static let unresolved = SocketAddress(storage: sockaddr_storage(), length: 0)

    /// The endpoint's name has not resolved yet: its requests are answered 503 (see `Gateway.resolve`).
    var isUnresolved: Bool { address.family == Int32(AF_UNSPEC) }

    /// TLS to this endpoint (nil: cleartext). A reload that keeps the pool may swap the context.
    private(set) var tls: UpstreamTLS?
    /// The last resumable session to this endpoint (with `tls`'s context), offered by the next connection.
    var session: TLSSession?
    /// `"protocol": "h2c"` or `"h2"`: connections are channels multiplexed on `h2` (SPEC §10).
    let http2: Bool
    /// The TLS each pooled connection speaks itself: none for HTTP/2, whose session holds the one TLS connection
    /// (the channels are in-process pairs).
    var connectionTLS: UpstreamTLS? { http2 ? nil : tls }
    /// The HTTP/2 connection new channels open streams on; nil until the first, and after a GOAWAY or failure.
    var h2: H2UpstreamSession?

    init(
        worker: Worker, address: SocketAddress, configured: HostPort, policy: PoolConfig, connectTimeoutMs: Int,
        tls: UpstreamTLS? = nil, http2: Bool = false
    ) {
        self.http2 = http2
        self.tls = tls
        self.worker = worker
        self.address = address
        authority = Array(configured.description.utf8)
        label = configured.description
        self.policy = policy
        self.connectTimeoutMs = connectTimeoutMs
    }

    /// New connections use `settings` (same server name; see `Worker.makeUpstreams`); a session of another
    /// context is not offered.
    func useTLS(_ settings: UpstreamTLS?) {
        if settings?.context !== tls?.context { session = nil }
        tls = settings
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

    private func report(active: Int, idle: Int, to telemetry: WorkerTelemetry? = nil) {
        // A retired pool's slot indexes an older config than the worker's telemetry: its counts left with it.
        guard !retired else { return }
        (telemetry ?? worker.telemetry).upstreamConnections(
            upstream: slot.upstream, endpoint: slot.endpoint, activeDelta: active, idleDelta: idle)
    }

    var canOpen: Bool { active + idle.count < policy.maxConnections }

    /// Parks a connection whose last response ended cleanly; closes it when `max_idle` is reached or the pool
    /// is retired (a later generation never sees it).
    func park(_ connection: UpstreamConnection, nowMs: Int64) {
        if retired || idle.count >= policy.maxIdle && waiters.isEmpty {
            connection.close()
            released()
            return
        }
        active -= 1
        report(active: -1, idle: 1)
        connection.becameIdle(deadlineMs: .deadline(nowMs, plusMs: policy.idleTimeoutMs))
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
            if let connection = waiter.connection, connection.active?.exchange.pointee.machine.state == .waitingForSlot {
                connection.poolSlotFreed(self)
                return
            }
        }
    }

    /// A new channel to this endpoint's HTTP/2 connection (opened on first use), and the exchange's end of it.
    func openH2Channel() throws(SystemError) -> (fd: Int32, channel: H2UpstreamChannel) {
        let session: H2UpstreamSession
        // A session that failed while it was being made (a handshake refused at once) is never reused.
        if let current = h2, !current.dead {
            session = current
        } else {
            session = try H2UpstreamSession(worker: worker, pool: self)
            h2 = session
        }
        return try H2UpstreamChannel.open(on: session)
    }

    enum OpenResult {
        case opened(UpstreamConnection)
        /// The endpoint refused or could not be reached: the attempt's failure.
        case endpointFailed
        /// This process (or host) ran out of something: ours to answer, not the endpoint's fault.
        case localFailure
    }

    /// A new non-blocking connection lent to `owner` (counted as active): for an h2c/h2 endpoint a channel on
    /// its HTTP/2 connection (SPEC §10), to the exchange a connected HTTP/1.1 connection.
    func open(for owner: DownstreamConnection) -> OpenResult {
        let fd: Int32
        let connected: Bool
        var channel: H2UpstreamChannel?
        do throws(SystemError) {
            if http2 {
                (fd, channel) = try openH2Channel()
                connected = true
            } else {
                fd = try Sockets.stream(family: address.family)
                do {
                    switch try Posix.connect(fd, address) {
                    case .processed: connected = true
                    case .wouldBlock: connected = false
                    }
                } catch {
                    Posix.close(fd)
                    throw error
                }
            }
        } catch {
            return Self.isLocalFailure(error.errno) ? .localFailure : .endpointFailed
        }
        do {
            let connection = try UpstreamConnection(worker: worker, pool: self, fd: fd, connected: connected)
            connection.h2Channel = channel
            opened()
            connection.activate(owner: owner)
            return .opened(connection)
        } catch {
            Posix.close(fd)
            return .localFailure
        }
    }

    /// Errors of `socket`/`connect`/registration that say this process (or host) ran out of something, not
    /// that the endpoint failed: descriptors, memory, local ports.
    static func isLocalFailure(_ errno: Int32) -> Bool {
        switch errno {
        case EMFILE, ENFILE, ENOBUFS, ENOMEM, EADDRNOTAVAIL, EAGAIN, ENOSPC: true
        default: false
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

    /// No generation uses the pool any more (reload, DNS change, shutdown): close the idle connections and
    /// take the pool's counts out of the gauges of `telemetry`, the generation whose indexes `slot` holds.
    /// Exchanges waiting for a slot keep waiting for one of the connections still lent out (or their deadline).
    func retire(telemetry: WorkerTelemetry) {
        guard !retired else { return }
        report(active: -active, idle: -idle.count, to: telemetry)
        retired = true
        let closing = idle
        idle.removeAll()
        for connection in closing { connection.close() }
        h2?.retire()
    }
}
