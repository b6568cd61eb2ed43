import MeshConfig
import MeshEventLoop
import MeshPosix
import MeshProxy
import MeshRateLimit
import MeshRedis

/// A worker's side of the `scope: "global"` limits (SPEC §11): its own Redis connection, one
/// `GlobalRateLimiter` per global limit of the configuration in force, and the exchanges parked until a
/// reservation answers. Confined to the worker's loop: no lock, and a reply is handled where it is read.
///
/// A reload drops the worker's reservations (a changed limit must not spend grants of the old one); exchanges
/// parked on the old limiters are woken and judged again under `on_error`.
final class GlobalLimitGate {
    enum Outcome {
        case allowed
        case denied(RateLimitDecision)
        /// Parked: call `park` and wait for `resumeAfterLimit`.
        case wait(digest: UInt64)
        /// Parked until the store's first connect succeeds or fails: call `parkUntilConnected`.
        case waitForConnection
        /// The store failed or is down; `allowed` is `on_error`.
        case storeError(allowed: Bool)
    }

    private unowned(unsafe) let loop: EventLoop
    private var config: CompiledConfig?
    private var limiters: [GlobalRateLimiter] = []
    private var connection: RedisConnection?
    private var store: RateLimitStoreConfig?
    /// Exchanges waiting for a reservation, by the key digest the reservation is for.
    private var parked: [UInt64: [DownstreamConnection]] = [:]
    /// Exchanges that came before the connection's first outcome (up or down): a gateway that just started
    /// or reloaded waits for its first connect rather than deciding by `on_error`.
    private var awaitingConnection: [DownstreamConnection] = []
    private var settled = false

    init(loop: EventLoop) {
        self.loop = loop
    }

    private var nowNs: Int64 { loop.nowMs &* 1_000_000 }

    /// Judges a request against `limit`, a global limit of `config`, counting by `key`.
    func check(_ limit: CompiledRateLimit, config: CompiledConfig, key: UnsafeRawBufferPointer) -> Outcome {
        if self.config !== config { adopt(config) }
        let allowOnError = config.source.rateLimits.store?.onError != .deny
        guard limit.globalIndex >= 0, limit.globalIndex < limiters.count, self.config === config else {
            return .storeError(allowed: allowOnError)
        }
        if !settled, connection != nil { return .waitForConnection }
        let limiter = limiters[limit.globalIndex]
        let digest = RateLimitKey.digest(key)
        let check = limiter.check(digest: digest, keyBytes: key, now: nowNs)
        if let fetch = check.fetch, !send(fetch, limiter) {
            // Refused at once (not connected, too many in flight): the limiter now counts the store as down.
            limiter.failed(fetch.ticket, now: nowNs)
            if case .wait = check.verdict { return .storeError(allowed: allowOnError) }
        }
        switch check.verdict {
        case .allowed: return .allowed
        case .denied(let decision): return .denied(decision)
        case .wait: return .wait(digest: digest)
        case .storeError(let allowed): return .storeError(allowed: allowed)
        }
    }

    func park(_ exchange: DownstreamConnection, digest: UInt64) {
        parked[digest, default: []].append(exchange)
    }

    func parkUntilConnected(_ exchange: DownstreamConnection) {
        awaitingConnection.append(exchange)
    }

    /// The configuration changed: new limiters, and a new connection if the store did.
    private func adopt(_ config: CompiledConfig) {
        self.config = config
        let storeConfig = config.source.rateLimits.store
        limiters = config.globalLimits.map { limit in
            GlobalRateLimiter(
                settings: GlobalLimitSettings(
                    policy: limit.policy, name: limit.id, allowOnError: storeConfig?.onError != .deny,
                    maxKeys: limit.config.maxKeys))
        }
        if storeConfig != store || connection == nil {
            connection?.close()
            connection = nil
            store = storeConfig
            settled = false
            if let storeConfig, !config.globalLimits.isEmpty { connection = Self.connect(storeConfig, loop: loop) }
        }
        connection?.onUp = { [weak self] in
            guard let self else { return }
            for limiter in limiters { limiter.storeUp() }
            connectionSettled()
        }
        connection?.onDown = { [weak self] in
            guard let self else { return }
            for limiter in limiters { limiter.storeDown(now: nowNs) }
            connectionSettled()
        }
        wakeAll()
    }

    private static func connect(_ store: RateLimitStoreConfig, loop: EventLoop) -> RedisConnection? {
        // Resolved once per configuration; an IP literal (the usual case) costs no lookup.
        let address =
            SocketAddress(numericHost: store.redis.host, port: store.redis.port)
            ?? (try? SocketAddress.resolve(host: store.redis.host, port: store.redis.port))?.first
        guard let address,
            let connection = try? RedisConnection(
                loop: loop, settings: .init(address: address, timeoutMs: Int64(store.timeoutMs)))
        else {
            EventLog.warn("rate_limits.store: cannot reach \(store.redis)", [:])
            return nil
        }
        connection.start()
        return connection
    }

    private func send(_ fetch: GlobalRateLimiter.Fetch, _ limiter: GlobalRateLimiter) -> Bool {
        guard let connection else { return false }
        return connection.send(fetch.command) { [weak self, weak limiter] result in
            guard let self, let limiter else { return }
            switch result {
            case .success(let reply): limiter.completed(fetch.ticket, reply: reply, now: nowNs)
            case .failure: limiter.failed(fetch.ticket, now: nowNs)
            }
            wake(fetch.ticket.digest)
        }
    }

    private func wake(_ digest: UInt64) {
        guard let waiting = parked.removeValue(forKey: digest) else { return }
        for exchange in waiting { exchange.resumeAfterLimit() }
    }

    private func connectionSettled() {
        settled = true
        let waiting = awaitingConnection
        awaitingConnection = []
        for exchange in waiting { exchange.resumeAfterLimit() }
    }

    private func wakeAll() {
        let all = parked
        parked = [:]
        for waiting in all.values { for exchange in waiting { exchange.resumeAfterLimit() } }
        let connecting = awaitingConnection
        awaitingConnection = []
        for exchange in connecting { exchange.resumeAfterLimit() }
    }
}
