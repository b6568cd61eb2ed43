import Glibc
import MeshConfig
import MeshEventLoop
import MeshHTTP1
import MeshJWT
import MeshPosix
import MeshProxy
import MeshResilience
import MeshTrace
import Synchronization

/// One worker thread: its epoll loop, its listeners (SO_REUSEPORT), its upstream pools and its buffers.
///
/// Nothing here is shared with other workers except the immutable `CompiledConfig`; every field is touched
/// only on the worker's own thread (the main thread reaches a worker only through `loop.execute`, hence the
/// unchecked `Sendable`).
final class Worker: @unchecked Sendable {
    let index: Int
    let loop: EventLoop
    private(set) var config: CompiledConfig
    let limits: HTTPLimits
    let pool: BufferPool
    /// Scratch for header offsets while one head is processed (heads are processed one at a time).
    let headers: UnsafeMutableBufferPointer<HTTPHeaderField>
    /// Scratch for the normalized path of the head being processed.
    let pathScratch: UnsafeMutableRawBufferPointer
    /// The current config's upstreams, in `CompiledConfig.upstreamNames` order.
    private(set) var upstreams: [UpstreamRuntime] = []
    var random = FastRandom()
    /// Scratch for the combined `tracestate` of the head being processed.
    let traceScratch: UnsafeMutableRawBufferPointer
    var listeners: [Listener] = []
    /// Open client connections on this worker and this worker's share of `limits.max_connections`.
    var connections = 0
    let connectionLimit: Int
    /// `connections`, readable from the main thread while it drains.
    let openConnections = Atomic<Int>(0)
    /// Every open client connection (each knows its slot), so a drain can close the idle ones.
    var clients: [DownstreamConnection] = []
    /// SIGTERM arrived: no new connections, no keep-alive after the current response (SPEC §7).
    private(set) var draining = false
    private(set) var telemetry: WorkerTelemetry
    /// Process-wide telemetry (breaker transitions are counted once per process).
    private(set) var processTelemetry: Telemetry
    /// Listeners and pools a reload removed, kept alive while connections that started on them still
    /// point at them (those references are unowned on the hot path).
    private var retiredListeners: [Listener] = []
    private var retiredPools: [EndpointPool] = []
    /// JWT providers in `CompiledConfig.providerNames` order, and this worker's verified-token cache for each.
    var providers: [ProviderRuntime] = []
    var tokenCaches: [VerifiedTokenCache] = []
    /// Asks the control plane to refetch a provider's JWKS (an unknown `kid` was seen).
    var requestKeyRefetch: (String) -> Void = { _ in }
    /// Endpoint addresses the control plane re-resolves every `dns_refresh_ms`, and the generation in use.
    var resolved: ResolvedAddresses?
    private var addressGeneration = 0

    init(
        index: Int, config: CompiledConfig, addresses: [[SocketAddress]], states: [[EndpointState]],
        workers: Int, telemetry: Telemetry
    ) throws(SystemError) {
        self.index = index
        loop = try EventLoop()
        self.config = config
        let l = config.source.limits
        limits = HTTPLimits(maxHeaderBytes: l.maxHeaderBytes, maxHeaderCount: 100, maxURIBytes: 8192)
        // A block holds a whole head (431 past max_header_bytes) and is big enough for cheap body copies.
        pool = BufferPool(bufferSize: max(64 * 1024, l.maxHeaderBytes + 1024))
        headers = .allocate(capacity: limits.maxHeaderCount)
        pathScratch = .allocate(byteCount: limits.maxURIBytes + 16, alignment: 8)
        traceScratch = .allocate(byteCount: l.maxHeaderBytes + 64, alignment: 8)
        connectionLimit = max(1, l.maxConnections / max(1, workers))
        self.telemetry = telemetry.worker(index)
        processTelemetry = telemetry
        upstreams = makeUpstreams(config, addresses: addresses, states: states)
    }

    /// Runtimes for `config`'s upstreams. Pools of endpoints this worker already has (same upstream, address
    /// and pool policy) are kept with their idle connections; the others start empty.
    func makeUpstreams(_ config: CompiledConfig, addresses: [[SocketAddress]], states: [[EndpointState]])
        -> [UpstreamRuntime]
    {
        var existing: [String: EndpointPool] = [:]
        for runtime in upstreams {
            for pool in runtime.pools { existing["\(runtime.name)/\(pool.label)"] = pool }
        }
        return config.upstreamNames.enumerated().map { i, name in
            let upstream = config.source.upstreams[name]!
            let pools = zip(upstream.endpoints, addresses[i]).map { configured, address in
                if let pool = existing["\(name)/\(configured)"], pool.address == address,
                    pool.policy == upstream.pool, pool.connectTimeoutMs == upstream.connectTimeoutMs
                {
                    return pool
                }
                return EndpointPool(
                    worker: self, address: address, configured: configured, policy: upstream.pool,
                    connectTimeoutMs: upstream.connectTimeoutMs)
            }
            for (e, pool) in pools.enumerated() { pool.slot = (i, e) }
            return UpstreamRuntime(index: i, config: upstream, pools: pools, states: states[i])
        }
    }

    /// Appends a new request id (32 lowercase hex digits) to `out`.
    func appendRequestID(into out: inout [UInt8]) {
        let random = (self.random.next(), self.random.next())
        withUnsafeTemporaryAllocation(byteCount: RequestID.generatedLength, alignment: 1) { scratch in
            let n = RequestID.generate(random: random, into: scratch)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
        }
    }

    /// A client connection closed: listeners paused at `max_connections` may accept again.
    func listenerSlotFreed() {
        guard connections < connectionLimit else { return }
        for listener in listeners where listener.paused { listener.resume() }
    }

    func start(listenerSockets: [(fd: Int32, listener: CompiledListener)]) throws(SystemError) {
        for (fd, compiled) in listenerSockets {
            let listener = Listener(worker: self, listenerIndex: listeners.count, config: compiled)
            try listener.register(fd: fd)
            listeners.append(listener)
        }
    }

    func setProviders(_ providers: [ProviderRuntime]) {
        let old = Dictionary(
            zip(self.providers.map(ObjectIdentifier.init), tokenCaches), uniquingKeysWith: { a, _ in a })
        tokenCaches = providers.map { old[ObjectIdentifier($0)] ?? VerifiedTokenCache() }
        self.providers = providers
    }

    /// A `jwks.url` fetch of `provider` reported (new keys, or a failure keeping the old ones): requests parked
    /// on an unknown `kid` of that provider are judged again now (SPEC §3). Walks the open connections instead
    /// of keeping a wait list, so a client that leaves while parked needs no unregistering.
    func keysFetched(_ provider: String) {
        for client in clients where client.exchange.keyWait?.name == provider { client.resumeAfterKeys() }
    }

    // MARK: - Connections

    func clientOpened(_ connection: DownstreamConnection) {
        connection.slot = clients.count
        clients.append(connection)
        connections += 1
        openConnections.store(connections, ordering: .relaxed)
    }

    func clientClosed(_ connection: DownstreamConnection) {
        let slot = connection.slot
        if slot >= 0 && slot < clients.count && clients[slot] === connection {
            let last = clients.removeLast()
            if slot < clients.count {
                clients[slot] = last
                last.slot = slot
            }
        }
        connection.slot = -1
        connections -= 1
        openConnections.store(connections, ordering: .relaxed)
        listenerSlotFreed()
    }

    // MARK: - DNS refresh

    /// Picks up endpoint addresses the control plane re-resolved (SPEC §3: DNS names every `dns_refresh_ms`).
    /// Pools of endpoints whose address changed start over; exchanges in flight keep the runtime they hold.
    /// One atomic load per request when nothing changed.
    func refreshAddressesIfChanged() {
        guard let resolved, resolved.generation != addressGeneration else { return }
        let snapshot = resolved.snapshot()
        addressGeneration = snapshot.generation
        let addresses = upstreams.map { runtime in
            zip(runtime.config.endpoints, runtime.pools).map { configured, pool in
                snapshot.addresses(upstream: runtime.name, endpoint: configured).first ?? pool.address
            }
        }
        let changed = zip(addresses, upstreams).contains { row, runtime in
            !zip(row, runtime.pools).allSatisfy { $0 == $1.address }
        }
        guard changed else { return }
        replaceUpstreams(makeUpstreams(config, addresses: addresses, states: upstreams.map(\.states)))
    }

    /// Swaps the upstream runtimes; pools that are not kept close their idle connections and stay alive while
    /// exchanges still use them.
    private func replaceUpstreams(_ next: [UpstreamRuntime]) {
        let oldPools = upstreams.flatMap(\.pools)
        upstreams = next
        let kept = Set(upstreams.flatMap(\.pools).map(ObjectIdentifier.init))
        for pool in oldPools where !kept.contains(ObjectIdentifier(pool)) {
            pool.closeAll()
            retiredPools.append(pool)
        }
        retiredPools.removeAll { $0.active == 0 }
    }

    // MARK: - Reload and drain

    /// A validated new config for this worker, built on the thread that reloaded. The telemetry shard
    /// inside is handed to this worker alone.
    struct ConfigUpdate: @unchecked Sendable {
        var config: CompiledConfig
        var addresses: [[SocketAddress]]
        var states: [[EndpointState]]
        var providers: [ProviderRuntime]
        var telemetry: Telemetry
        /// Sockets bound for listeners that are new in this config.
        var added: [(fd: Int32, key: String)]
    }

    /// Swaps in a new config between events: new requests see it, exchanges in flight keep what they hold.
    func apply(_ update: ConfigUpdate) {
        config = update.config
        telemetry = update.telemetry.worker(index)
        processTelemetry = update.telemetry
        replaceUpstreams(makeUpstreams(update.config, addresses: update.addresses, states: update.states))
        setProviders(update.providers)
        rebindListeners(update)
    }

    private func rebindListeners(_ update: ConfigUpdate) {
        var byKey: [String: Listener] = [:]
        for listener in listeners { byKey[listener.key] = listener }
        var next: [Listener] = []
        for (index, compiled) in update.config.listeners.enumerated() {
            let key = Gateway.key(compiled)
            if let existing = byKey.removeValue(forKey: key) {
                existing.update(config: compiled, index: index)
                next.append(existing)
            } else if let socket = update.added.first(where: { $0.key == key }) {
                let listener = Listener(worker: self, listenerIndex: index, config: compiled)
                do {
                    try listener.register(fd: socket.fd)
                    if draining { listener.close() }
                    next.append(listener)
                } catch {
                    Posix.close(socket.fd)
                }
            }
        }
        for removed in byKey.values {
            removed.close()
            // Connections it accepted keep going; their requests no longer count under any listener's labels.
            removed.update(config: removed.config, index: -1)
            retiredListeners.append(removed)
        }
        listeners = next
    }

    /// Stops accepting and closes idle connections; busy ones close after their response.
    func beginDrain() {
        draining = true
        for listener in listeners { listener.close() }
        for client in clients where client.isIdle { client.close() }
    }

    func run() {
        loop.run()
        for runtime in upstreams { for pool in runtime.pools { pool.closeAll() } }
    }
}
