import MeshConfig
import MeshEventLoop
import MeshPosix

/// The control plane's loop-side state: the HTTP client, one JWKS refresher per URL key source, one health
/// checker per upstream with `health_check`, and the DNS refresher.
///
/// Confined to the control loop's thread; `ControlPlane` reaches it only through `EventLoop.execute` (hence
/// `@unchecked Sendable`: the closure carrying it crosses threads, the object is used on one).
final class ControlState: @unchecked Sendable {
    let client: HTTPClient
    private let addresses: ResolvedAddresses
    private let callbacks: ControlPlane.Callbacks
    private let dns: DNSRefresher
    private var refreshers: [ObjectIdentifier: JWKSRefresher] = [:]
    private var checkers: [String: HealthChecker] = [:]

    /// Builds the state; call on the loop's thread or before the loop runs.
    init(
        loop: EventLoop,
        resolver: BlockingResolver,
        addresses: ResolvedAddresses,
        callbacks: ControlPlane.Callbacks
    ) throws(SystemError) {
        client = try HTTPClient(loop: loop, resolver: resolver)
        self.addresses = addresses
        self.callbacks = callbacks
        dns = DNSRefresher(
            loop: loop,
            timers: client.timers,
            resolver: resolver,
            addresses: addresses,
            onFailure: callbacks.onResolveFailure
        )
    }

    /// Fetches started by the refresher of `keys` (0 when it has none).
    func fetches(for keys: ProviderKeys) -> Int { refreshers[ObjectIdentifier(keys)]?.fetches ?? 0 }

    /// Upstream → probes started by its checker.
    func healthCheckProbes() -> [String: Int] { checkers.mapValues { $0.probesStarted.reduce(0, +) } }

    /// Follows a (new) config: keeps refreshers whose key material is unchanged and checkers whose policy and
    /// endpoints are unchanged; starts the new ones; stops the rest.
    func apply(runtimes: [ProviderRuntime], config: GatewayConfig, endpoints: [[EndpointState]]) {
        applyRefreshers(runtimes)
        applyCheckers(config, endpoints)
        dns.apply(config)
    }

    private func applyRefreshers(_ runtimes: [ProviderRuntime]) {
        var next: [ObjectIdentifier: JWKSRefresher] = [:]
        for runtime in runtimes {
            guard runtime.keys.url != nil, let refreshMs = runtime.keys.refreshMs else { continue }
            let id = ObjectIdentifier(runtime.keys)
            if let existing = refreshers[id] {
                existing.update(refreshMs: refreshMs)
                next[id] = existing
                continue
            }
            let refresher = JWKSRefresher(
                keys: runtime.keys,
                refreshMs: refreshMs,
                client: client,
                onRefresh: callbacks.onRefresh
            )
            next[id] = refresher
            refresher.start()
        }
        for (id, refresher) in refreshers where next[id] == nil { refresher.stop() }
        refreshers = next
    }

    private func applyCheckers(_ config: GatewayConfig, _ endpoints: [[EndpointState]]) {
        var next: [String: HealthChecker] = [:]
        for (index, name) in config.upstreamOrder.enumerated() where index < endpoints.count {
            let states = endpoints[index]
            guard let policy = config.upstreams[name]?.healthCheck else {
                // Without checks nobody would ever mark these healthy again: forget the old verdict.
                if checkers[name] != nil { for state in states { state.setHealth(.unknown) } }
                continue
            }
            let tls = config.upstreams[name]?.tls
            if let existing = checkers[name], existing.matches(policy: policy, tls: tls, endpoints: states) {
                next[name] = existing
                continue
            }
            checkers[name]?.stop()
            let checker = HealthChecker(
                upstream: name,
                policy: policy,
                tls: tls,
                endpoints: states,
                client: client,
                addresses: addresses,
                onChange: callbacks.onHealthChange
            )
            next[name] = checker
            checker.start()
        }
        for (name, checker) in checkers where next[name] == nil || next[name] !== checker { checker.stop() }
        checkers = next
    }

    /// Fetches the URL keys of `keys` now (the unknown-kid slot was already granted).
    func refetch(_ keys: ProviderKeys) {
        refreshers[ObjectIdentifier(keys)]?.refetch()
    }

    /// Stops every refresher, checker and timer and fails requests in flight with `.cancelled`.
    func shutdown() {
        for refresher in refreshers.values { refresher.stop() }
        for checker in checkers.values { checker.stop() }
        dns.stop()
        refreshers.removeAll()
        checkers.removeAll()
        client.shutdown()
    }
}
