import Glibc
import MeshConfig
import MeshEventLoop
import MeshHTTP1
import MeshJWT
import MeshPosix
import MeshProxy
import MeshResilience
import MeshTrace

/// One worker thread: its epoll loop, its listeners (SO_REUSEPORT), its upstream pools and its buffers.
///
/// Nothing here is shared with other workers except the immutable `CompiledConfig`; every field is touched
/// only on the worker's own thread.
final class Worker {
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
    let telemetry: WorkerTelemetry
    /// JWT providers in `CompiledConfig.providerNames` order, and this worker's verified-token cache for each.
    var providers: [ProviderRuntime] = []
    var tokenCaches: [VerifiedTokenCache] = []
    /// Asks the control plane to refetch a provider's JWKS (an unknown `kid` was seen).
    var requestKeyRefetch: (String) -> Void = { _ in }

    init(
        index: Int, config: CompiledConfig, addresses: [[SocketAddress]], states: [[EndpointState]],
        workers: Int, telemetry: WorkerTelemetry
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
        self.telemetry = telemetry
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
                return EndpointPool(address: address, configured: configured, policy: upstream.pool,
                                    connectTimeoutMs: upstream.connectTimeoutMs)
            }
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

    func run() {
        loop.run()
        for runtime in upstreams { for pool in runtime.pools { pool.closeAll() } }
    }
}
