import Glibc
import MeshConfig
import MeshEventLoop
import MeshHTTP1
import MeshPosix
import MeshProxy

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
    /// `endpoints[upstream][endpoint]`.
    private(set) var endpoints: [[EndpointPool]]
    private var nextEndpoint: [Int]
    var listeners: [Listener] = []
    var connections = 0
    private var requestCounter: UInt64 = 0
    private let requestIDPrefix: String

    init(index: Int, config: CompiledConfig, addresses: [[SocketAddress]], requestIDPrefix: String) throws(SystemError) {
        self.index = index
        loop = try EventLoop()
        self.config = config
        let l = config.source.limits
        limits = HTTPLimits(maxHeaderBytes: l.maxHeaderBytes, maxHeaderCount: 100, maxURIBytes: 8192)
        // A block holds a whole head (431 past max_header_bytes) and is big enough for cheap body copies.
        pool = BufferPool(bufferSize: max(64 * 1024, l.maxHeaderBytes + 1024))
        headers = .allocate(capacity: limits.maxHeaderCount)
        pathScratch = .allocate(byteCount: limits.maxURIBytes + 16, alignment: 8)
        endpoints = []
        nextEndpoint = Array(repeating: 0, count: config.upstreamNames.count)
        self.requestIDPrefix = requestIDPrefix
        endpoints = makePools(config, addresses: addresses)
    }

    private func makePools(_ config: CompiledConfig, addresses: [[SocketAddress]]) -> [[EndpointPool]] {
        config.upstreamNames.enumerated().map { i, name in
            let upstream = config.source.upstreams[name]!
            return zip(upstream.endpoints, addresses[i]).map { configured, address in
                EndpointPool(address: address, configured: configured, policy: upstream.pool,
                             connectTimeoutMs: upstream.connectTimeoutMs)
            }
        }
    }

    /// Round-robin over the upstream's endpoints (resilience brings breakers and other balancers).
    func pickEndpoint(upstream: Int) -> EndpointPool {
        let pools = endpoints[upstream]
        let i = nextEndpoint[upstream] % pools.count
        nextEndpoint[upstream] = i + 1
        return pools[i]
    }

    /// A request id for responses the gateway makes itself: a per-process random prefix and a counter.
    func makeRequestID() -> String {
        requestCounter &+= 1
        var digits = String(requestCounter, radix: 16)
        if digits.count < 12 { digits = String(repeating: "0", count: 12 - digits.count) + digits }
        return requestIDPrefix + digits
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
        for row in endpoints { for pool in row { pool.closeAll() } }
    }
}
