import MeshConfig
import MeshRateLimit

/// A `GatewayConfig` prepared for the hot path: routes compiled to bytes, upstreams numbered.
///
/// Immutable and shared by every worker; a reload builds a new one and each worker swaps its reference
/// between requests, while exchanges in flight keep the one they started with.
public final class CompiledConfig: Sendable {
    public let source: GatewayConfig
    public let listeners: [CompiledListener]
    /// Upstream names in file order; a route's `upstreamIndex` points in here.
    public let upstreamNames: [String]
    /// JWT provider names, sorted; a route's `jwtProvider` points in here.
    public let providerNames: [String]
    /// Increases by one per successful (re)load.
    public let generation: Int
    /// `max_in_flight` per upstream (`upstreamNames` order), nil where unset.
    public let upstreamCaps: [ConcurrencyLimiter?]
    /// The `scope: "global"` limits, in `globalIndex` order (each worker holds one `GlobalRateLimiter` each).
    public let globalLimits: [CompiledRateLimit]
    /// Registry ids of every process limit, for `RateLimitRegistry.retain` after a reload.
    public let processLimitIDs: Set<String>

    /// - Parameter registry: keeps buckets and in-flight counts across reloads (the gateway's one registry);
    ///   a fresh one starts every limit full.
    public init(_ config: GatewayConfig, generation: Int, registry: RateLimitRegistry = RateLimitRegistry()) {
        source = config
        self.generation = generation
        upstreamNames = config.upstreamOrder
        upstreamCaps = config.upstreamOrder.map { name in
            config.upstreams[name]?.maxInFlight.map { registry.concurrencyLimiter(upstream: name, mode: .init($0)) }
        }
        var indexByName: [String: Int] = [:]
        for (i, name) in config.upstreamOrder.enumerated() { indexByName[name] = i }
        let providers = config.jwtProviders.keys.sorted()
        providerNames = providers
        var globals: [CompiledRateLimit] = []
        func limit(_ rule: RateLimitConfig?, id: String, name: String) -> CompiledRateLimit? {
            guard let rule else { return nil }
            let compiled = CompiledRateLimit(rule, id: id, name: name, registry: registry, globalIndex: globals.count)
            if rule.scope == .global { globals.append(compiled) }
            return compiled
        }
        listeners = config.listeners.map { listener in
            var trusted: [[UInt8]] = []
            let rules = [listener.jwt] + listener.routes.map(\.jwt)
            for mapping in rules.compactMap({ $0 }).flatMap(\.claimsToHeaders) {
                let name = Array(mapping.header.lowercased().utf8)
                if !trusted.contains(name) { trusted.append(name) }
            }
            let routes = listener.routes.enumerated().map { i, route in
                // Validation guarantees the references exist.
                let provider = route.jwt.flatMap { rule in providers.firstIndex(of: rule.provider) } ?? -1
                let forward = route.jwt.flatMap { config.jwtProviders[$0.provider]?.forwardToken } ?? true
                return CompiledRoute(
                    config: route, index: i, upstreamIndex: indexByName[route.upstream] ?? 0,
                    providerIndex: provider, forwardToken: forward, trustedHeaders: trusted,
                    rateLimit: limit(route.rateLimit, id: "route/\(listener.name)/\(route.name)", name: route.name))
            }
            let own = limit(listener.rateLimit, id: "listener/\(listener.name)", name: listener.name)
            return CompiledListener(config: listener, routes: routes, trustedNames: trusted, rateLimit: own)
        }
        globalLimits = globals
        let limits = listeners.flatMap { [$0.rateLimit] + $0.routes.map(\.rateLimit) }.compactMap { $0 }
        processLimitIDs = Set(limits.filter { $0.process != nil }.map(\.id))
    }

    public func upstream(at index: Int) -> UpstreamConfig { source.upstreams[upstreamNames[index]]! }

    /// Forgets the limiter state this generation does not use (once it is the one in force).
    public func retainLimits(in registry: RateLimitRegistry) {
        let capped = zip(upstreamNames, upstreamCaps).filter { $0.1 != nil }.map(\.0)
        registry.retain(limiters: processLimitIDs, upstreams: Set(capped))
    }
}

/// One listener's routes, in match order.
public final class CompiledListener: Sendable {
    public let config: ListenerConfig
    public let routes: [CompiledRoute]
    /// Every `claims_to_headers` target of the listener (lowercase): never taken from a client on any of its
    /// routes, and never named by a client's `Connection` (TrustBoundary).
    public let trustedNames: [[UInt8]]
    /// The routes as a trie: what requests are matched with.
    public let table: RouteTable
    /// The listener's `rate_limit`: every request routed on the listener counts against it first.
    public let rateLimit: CompiledRateLimit?

    init(config: ListenerConfig, routes: [CompiledRoute], trustedNames: [[UInt8]], rateLimit: CompiledRateLimit?) {
        self.config = config
        self.rateLimit = rateLimit
        self.routes = routes
        self.trustedNames = trustedNames
        table = RouteTable(routes)
    }
}
