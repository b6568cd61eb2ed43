import MeshConfig

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

    public init(_ config: GatewayConfig, generation: Int) {
        source = config
        self.generation = generation
        upstreamNames = config.upstreamOrder
        var indexByName: [String: Int] = [:]
        for (i, name) in config.upstreamOrder.enumerated() { indexByName[name] = i }
        let providers = config.jwtProviders.keys.sorted()
        providerNames = providers
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
                    providerIndex: provider, forwardToken: forward, trustedHeaders: trusted)
            }
            return CompiledListener(config: listener, routes: routes, trustedNames: trusted)
        }
    }

    public func upstream(at index: Int) -> UpstreamConfig { source.upstreams[upstreamNames[index]]! }
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

    init(config: ListenerConfig, routes: [CompiledRoute], trustedNames: [[UInt8]]) {
        self.config = config
        self.routes = routes
        self.trustedNames = trustedNames
        table = RouteTable(routes)
    }
}
