import Glibc
import MeshConfig
import MeshControl
import MeshEventLoop
import MeshHTTP1
import MeshHTTP2
import MeshJWT
import MeshPosix
import MeshProxy
import MeshResilience
import MeshTLS
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
    /// The generation new requests are served with; exchanges in flight hold the one they started on.
    private(set) var current: WorkerGeneration
    /// Parser limits for new requests: `limits.max_header_bytes` of the current config, bounded by what this
    /// worker's buffers (sized at start) can hold.
    private(set) var limits: HTTPLimits
    /// Bumped when `limits` change, so keep-alive connections rebuild their parser before their next request.
    private(set) var limitsVersion = 0
    let pool: BufferPool
    /// Scratch for header offsets while one head is processed (heads are processed one at a time).
    let headers: UnsafeMutableBufferPointer<HTTPHeaderField>
    /// Scratch for the normalized path of the head being processed.
    let pathScratch: UnsafeMutableRawBufferPointer
    var random = FastRandom()
    /// Where an HTTP/2 session copies its codec's output for one write (`HTTP2Session.flush`): lent for one call,
    /// so what a slow client leaves unwritten moves to the session's own storage before the call returns.
    let h2WriteScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    /// Scratch for the combined `tracestate` of the head being processed (sized for any head the buffers hold).
    let traceScratch: UnsafeMutableRawBufferPointer
    var listeners: [Listener] = []
    /// Open client connections on this worker and this worker's share of `limits.max_connections` (of the
    /// current config: a reload applies to the next accept).
    var connections = 0
    private(set) var connectionLimit: Int
    let workerCount: Int
    /// `connections`, readable from the main thread while it drains.
    let openConnections = Atomic<Int>(0)
    /// Every open client connection (each knows its slot), so a drain can close the idle ones.
    var clients: [DownstreamConnection] = []
    /// Per-request state lent to client connections while they have a request in progress.
    var exchangeStates = ExchangeStates()
    /// Field lists that carry response heads from bridged connections to their HTTP/2 streams (`StreamPipe`),
    /// reused: a list grown per response cost five allocations.
    var spareFieldLists: [HTTP2HeaderList] = []

    func takeFieldList() -> HTTP2HeaderList {
        // Emptied here, not when given back: by now the list's last other holder is gone, so emptying it keeps
        // its storage (emptying a list still shared would copy it).
        guard var list = spareFieldLists.popLast() else { return HTTP2HeaderList(reservingBytes: 512, fields: 16) }
        list.removeAll()
        return list
    }

    func giveBack(_ list: consuming HTTP2HeaderList) {
        guard spareFieldLists.count < ExchangeStates.retained else { return }
        spareFieldLists.append(list)
    }
    /// The `scope: "global"` rate limits as this worker holds them (its Redis connection), made on first use.
    private(set) lazy var globalLimits = GlobalLimitGate(loop: loop)
    /// SIGTERM arrived: no new connections, no keep-alive after the current response (SPEC §7).
    private(set) var draining = false
    /// Asks the control plane to refetch a provider's JWKS (an unknown `kid` was seen).
    var requestKeyRefetch: (String) -> Void = { _ in }
    /// Endpoint addresses the control plane re-resolves every `dns_refresh_ms`, and the generation in use.
    var resolved: ResolvedAddresses?
    private var addressGeneration = 0

    /// The current config, its upstreams and telemetry (what new requests see).
    var config: CompiledConfig { current.config }
    var upstreams: [UpstreamRuntime] { current.upstreams }
    var telemetry: WorkerTelemetry { current.telemetry }
    var processTelemetry: Telemetry { current.processTelemetry }

    init(
        index: Int, config: CompiledConfig, addresses: [[SocketAddress]], states: [[EndpointState]],
        providers: [ProviderRuntime] = [], workers: Int, telemetry: Telemetry, listenerTLS: [TLSServerContext?],
        upstreamTLS: [TLSClientContext?]
    ) throws(SystemError) {
        self.index = index
        loop = try EventLoop()
        let l = config.source.limits
        // A block holds a whole head (431 past max_header_bytes) and is big enough for cheap body copies.
        pool = BufferPool(bufferSize: max(64 * 1024, l.maxHeaderBytes + 1024))
        limits = Worker.parserLimits(config, bufferSize: pool.bufferSize)
        headers = .allocate(capacity: limits.maxHeaderCount)
        pathScratch = .allocate(byteCount: limits.maxURIBytes + 16, alignment: 8)
        traceScratch = .allocate(byteCount: pool.bufferSize + 64, alignment: 8)
        workerCount = max(1, workers)
        connectionLimit = Worker.connectionShare(config, workers: workerCount)
        current = WorkerGeneration(
            config: config, upstreams: [], providers: providers,
            tokenCaches: providers.map { _ in VerifiedTokenCache() }, telemetry: telemetry.worker(index),
            processTelemetry: telemetry, listenerTLS: listenerTLS, upstreamTLS: upstreamTLS)
        current = current.replacing(
            upstreams: makeUpstreams(config, addresses: addresses, states: states, tls: upstreamTLS))
    }

    /// `limits.max_header_bytes` as the parser enforces it; a reload may not raise it past what this worker's
    /// buffers (sized from the config at start) can hold, or a head would stall in a full buffer.
    static func parserLimits(_ config: CompiledConfig, bufferSize: Int) -> HTTPLimits {
        HTTPLimits(
            maxHeaderBytes: min(config.source.limits.maxHeaderBytes, bufferSize - 1024), maxHeaderCount: 100,
            maxURIBytes: 8192)
    }

    /// This worker's share of `limits.max_connections`.
    static func connectionShare(_ config: CompiledConfig, workers: Int) -> Int {
        max(1, config.source.limits.maxConnections / max(1, workers))
    }

    /// Runtimes for `config`'s upstreams. Pools of endpoints this worker already has (same upstream, address
    /// and pool policy) are kept with their idle connections; the others start empty.
    /// A kept pool takes the new TLS context (new connections use it; a rotated client certificate or CA
    /// applies from the next connection) and forgets its session; TLS turned on or off, or another server name,
    /// makes a new pool.
    func makeUpstreams(
        _ config: CompiledConfig, addresses: [[SocketAddress]], states: [[EndpointState]], tls: [TLSClientContext?]
    ) -> [UpstreamRuntime] {
        var existing: [String: EndpointPool] = [:]
        for runtime in upstreams {
            for pool in runtime.pools { existing["\(runtime.name)/\(pool.label)"] = pool }
        }
        return config.upstreamNames.enumerated().map { i, name in
            let upstream = config.source.upstreams[name]!
            let pools = zip(upstream.endpoints, addresses[i]).map { configured, address in
                let settings = UpstreamTLSContexts.settings(tls[i], upstream.tls, host: configured.host)
                if let pool = existing["\(name)/\(configured)"], !pool.retired, pool.address == address,
                    pool.policy == upstream.pool, pool.connectTimeoutMs == upstream.connectTimeoutMs,
                    pool.tls?.serverName == settings?.serverName, pool.http2 == (upstream.upstreamProtocol != .http1)
                {
                    pool.useTLS(settings)
                    return pool
                }
                return EndpointPool(
                    worker: self, address: address, configured: configured, policy: upstream.pool,
                    connectTimeoutMs: upstream.connectTimeoutMs, tls: settings, http2: upstream.upstreamProtocol != .http1)
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
        for listener in listeners where listener.paused || listener.waitingForResources { listener.resume() }
    }

    func start(listenerSockets: [(fd: Int32, listener: CompiledListener)]) throws(SystemError) {
        for (fd, compiled) in listenerSockets {
            let binding = ListenerBinding(generation: current, config: compiled, listenerIndex: listeners.count)
            let listener = Listener(worker: self, binding: binding)
            try listener.register(fd: fd)
            listeners.append(listener)
        }
    }

    /// A `jwks.url` fetch of `provider` reported (new keys, or a failure keeping the old ones): requests parked
    /// on an unknown `kid` of that provider are judged again now (SPEC §3). Walks the open connections instead
    /// of keeping a wait list, so a client that leaves while parked needs no unregistering.
    func keysFetched(_ provider: String) {
        for client in clients where client.active?.exchange.pointee.keyWait?.name == provider { client.resumeAfterKeys() }
    }

    // MARK: - Connections

    /// Counted against `max_connections` unless bridged: an HTTP/2 stream's connection is its client's, which is
    /// counted once (kept between streams, a client's bridged connections would otherwise fill the listener's
    /// share while idle).
    func clientOpened(_ connection: DownstreamConnection) {
        connection.slot = clients.count
        clients.append(connection)
        guard !connection.bridged else { return }
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
        guard !connection.bridged else { return }
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
        replaceUpstreams(
            makeUpstreams(config, addresses: addresses, states: upstreams.map(\.states), tls: current.upstreamTLS))
    }

    /// Swaps the upstream runtimes of the current config (a DNS change): listeners rebind to a generation
    /// with the same config object, so the routes they hand out index the new runtimes just as well.
    private func replaceUpstreams(_ next: [UpstreamRuntime]) {
        let previous = current
        current = current.replacing(upstreams: next)
        retirePools(of: previous)
        for listener in listeners {
            listener.rebind(
                ListenerBinding(
                    generation: current, config: listener.binding.config,
                    listenerIndex: listener.binding.listenerIndex))
        }
    }

    /// Retires the pools of `previous` that the current generation does not keep: their idle connections
    /// close, and a connection an exchange in flight hands back later is closed instead of parked. Exchanges
    /// and connections hold their pools strongly, so nothing is freed under them.
    private func retirePools(of previous: WorkerGeneration) {
        let kept = Set(current.upstreams.flatMap(\.pools).map(ObjectIdentifier.init))
        for pool in previous.upstreams.flatMap(\.pools) where !kept.contains(ObjectIdentifier(pool)) {
            pool.retire(telemetry: previous.telemetry)
        }
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
        /// `config.listeners` order; nil for plaintext listeners.
        var listenerTLS: [TLSServerContext?]
        /// `config.upstreamNames` order; nil for cleartext upstreams.
        var upstreamTLS: [TLSClientContext?]
        /// Sockets bound for listeners that are new in this config.
        var added: [(fd: Int32, key: String)]
    }

    /// Swaps in a new config between events: new requests and accepts see it (routes, upstreams, providers,
    /// limits), exchanges in flight keep the generation they pinned.
    func apply(_ update: ConfigUpdate) {
        let previous = current
        let upstreams = makeUpstreams(
            update.config, addresses: update.addresses, states: update.states, tls: update.upstreamTLS)
        current = WorkerGeneration(
            config: update.config, upstreams: upstreams, providers: update.providers,
            tokenCaches: previous.caches(for: update.providers), telemetry: update.telemetry.worker(index),
            processTelemetry: update.telemetry, listenerTLS: update.listenerTLS, upstreamTLS: update.upstreamTLS)
        retirePools(of: previous)
        let nextLimits = Worker.parserLimits(update.config, bufferSize: pool.bufferSize)
        if nextLimits.maxHeaderBytes != limits.maxHeaderBytes {
            limits = nextLimits
            limitsVersion += 1
        }
        connectionLimit = Worker.connectionShare(update.config, workers: workerCount)
        rebindListeners(update)
        // A higher max_connections lets paused listeners take their backlog now.
        listenerSlotFreed()
    }

    private func rebindListeners(_ update: ConfigUpdate) {
        var byKey: [String: Listener] = [:]
        for listener in listeners { byKey[listener.key] = listener }
        var next: [Listener] = []
        for (index, compiled) in update.config.listeners.enumerated() {
            let key = Gateway.key(compiled)
            let binding = ListenerBinding(generation: current, config: compiled, listenerIndex: index)
            if let existing = byKey.removeValue(forKey: key) {
                existing.rebind(binding)
                next.append(existing)
            } else if let socket = update.added.first(where: { $0.key == key }) {
                let listener = Listener(worker: self, binding: binding)
                do {
                    try listener.register(fd: socket.fd)
                    if draining { listener.close() }
                    next.append(listener)
                } catch {
                    Posix.close(socket.fd)
                }
            }
        }
        listeners = next
        for removed in byKey.values { retire(removed) }
    }

    /// A reload removed `listener`: stop accepting; its connections keep the generation they were bound to
    /// (its routes still index that generation's objects), finish the request in progress and close.
    private func retire(_ listener: Listener) {
        listener.close()
        listener.removed = true
        for client in clients where client.acceptedOn === listener { client.listenerRemoved() }
    }

    /// Stops accepting and closes idle connections; busy ones close after their response. With `closeIdle`
    /// false (after a binary upgrade) idle ones stay until their next request is answered with `Connection:
    /// close`, so a request already on its way never meets a closed connection.
    func beginDrain(closeIdle: Bool = true) {
        draining = true
        for listener in listeners { listener.close() }
        guard closeIdle else { return }
        for client in clients where client.isIdle { client.close() }
    }

    func run() {
        loop.run()
        for runtime in upstreams { for pool in runtime.pools { pool.retire(telemetry: telemetry) } }
    }
}
