import MeshConfig
import MeshEventLoop
import MeshPosix

/// Re-resolves upstream endpoints written as DNS names every `dns_refresh_ms` (SPEC §3, for Kubernetes headless
/// services) on the `BlockingResolver` thread, and publishes changes in `ResolvedAddresses`.
///
/// A failed lookup keeps the endpoint's previous addresses (a DNS blip must not empty an upstream) and is
/// reported through `onFailure`. IP literals are never re-resolved. Confined to the control loop's thread.
final class DNSRefresher {
    private struct Target {
        var endpoints: [HostPort]
        var refreshMs: Int
        var timer: LoopTimers.ID?
        var inFlight = false
    }

    private unowned let loop: EventLoop
    private unowned let timers: LoopTimers
    private let resolver: BlockingResolver
    private let addresses: ResolvedAddresses
    private let onFailure: @Sendable (String, HostPort, String) -> Void
    private var targets: [String: Target] = [:]
    /// Completed refresh rounds, for tests and logs.
    private(set) var rounds = 0

    init(
        loop: EventLoop,
        timers: LoopTimers,
        resolver: BlockingResolver,
        addresses: ResolvedAddresses,
        onFailure: @escaping @Sendable (String, HostPort, String) -> Void
    ) {
        self.loop = loop
        self.timers = timers
        self.resolver = resolver
        self.addresses = addresses
        self.onFailure = onFailure
    }

    /// Follows a (new) config: upstreams with DNS names get a refresh timer; unchanged ones keep theirs.
    func apply(_ config: GatewayConfig) {
        var next: [String: Target] = [:]
        for name in config.upstreamOrder {
            guard let upstream = config.upstreams[name],
                upstream.endpoints.contains(where: { SocketAddress(numericHost: $0.host, port: $0.port) == nil })
            else { continue }
            if let existing = targets[name], existing.endpoints == upstream.endpoints,
                existing.refreshMs == upstream.dnsRefreshMs
            {
                next[name] = existing
                continue
            }
            timers.cancel(targets[name]?.timer)
            next[name] = Target(endpoints: upstream.endpoints, refreshMs: upstream.dnsRefreshMs)
            next[name]!.timer = schedule(name, afterMs: upstream.dnsRefreshMs)
        }
        for (name, target) in targets where next[name] == nil { timers.cancel(target.timer) }
        targets = next
    }

    /// Cancels every timer; lookups in flight are dropped when they come back.
    func stop() {
        for target in targets.values { timers.cancel(target.timer) }
        targets.removeAll()
    }

    private func schedule(_ upstream: String, afterMs delay: Int) -> LoopTimers.ID {
        timers.schedule(afterMs: Int64(delay)) { [weak self] in self?.refresh(upstream) }
    }

    private func refresh(_ upstream: String) {
        guard var target = targets[upstream], !target.inFlight else { return }
        let names = target.endpoints.indices.filter {
            SocketAddress(numericHost: target.endpoints[$0].host, port: target.endpoints[$0].port) == nil
        }
        target.inFlight = true
        target.timer = nil
        targets[upstream] = target
        let round = LoopBound(DNSRound(endpoints: target.endpoints, pending: names.count))
        let me = LoopBound(self)
        let loop = self.loop
        for index in names {
            let endpoint = target.endpoints[index]
            resolver.resolve(host: endpoint.host, port: endpoint.port) { result in
                loop.execute { me.value.resolved(upstream, round.value, index, result) }
            }
        }
    }

    private func resolved(
        _ upstream: String,
        _ round: DNSRound,
        _ index: Int,
        _ result: Result<[SocketAddress], SystemError>
    ) {
        switch result {
        case .success(let found) where !found.isEmpty: round.results[index] = found
        case .success: onFailure(upstream, round.endpoints[index], "no addresses")
        case .failure(let error): onFailure(upstream, round.endpoints[index], error.description)
        }
        round.pending -= 1
        guard round.pending == 0 else { return }
        rounds += 1
        // Only merge into a table that still describes the same endpoints (a reload may have replaced it).
        addresses.modify { rows, configured in
            guard configured[upstream] == round.endpoints, var row = rows[upstream] else { return }
            for (index, found) in round.results where index < row.count { row[index] = found }
            rows[upstream] = row
        }
        guard var target = targets[upstream], target.endpoints == round.endpoints else { return }
        target.inFlight = false
        target.timer = schedule(upstream, afterMs: target.refreshMs)
        targets[upstream] = target
    }

    /// Blocking: resolves every endpoint of `config`, reusing `previous` rows for endpoints already known
    /// (the refresher keeps those fresh). For `start()` and reloads, never on a loop thread.
    static func resolveAll(
        _ config: GatewayConfig,
        previous: ResolvedAddresses.Snapshot,
        lookup: BlockingResolver.Lookup,
        onFailure: (String, HostPort, String) -> Void
    ) -> (upstreams: [String: [[SocketAddress]]], endpoints: [String: [HostPort]]) {
        var rows: [String: [[SocketAddress]]] = [:]
        var configured: [String: [HostPort]] = [:]
        for name in config.upstreamOrder {
            guard let upstream = config.upstreams[name] else { continue }
            configured[name] = upstream.endpoints
            rows[name] = upstream.endpoints.map { endpoint in
                let known = previous.addresses(upstream: name, endpoint: endpoint)
                if !known.isEmpty { return known }
                if let literal = SocketAddress(numericHost: endpoint.host, port: endpoint.port) { return [literal] }
                switch lookup(endpoint.host, endpoint.port) {
                case .success(let found):
                    if found.isEmpty { onFailure(name, endpoint, "no addresses") }
                    return found
                case .failure(let error):
                    onFailure(name, endpoint, error.description)
                    return []
                }
            }
        }
        return (rows, configured)
    }
}

/// The lookups of one refresh round of one upstream, collected on the loop's thread.
private final class DNSRound {
    let endpoints: [HostPort]
    var pending: Int
    var results: [Int: [SocketAddress]] = [:]

    init(endpoints: [HostPort], pending: Int) {
        self.endpoints = endpoints
        self.pending = pending
    }
}
