import MeshConfig
import MeshControl
import MeshPosix
import MeshResilience

/// One worker's view of one upstream: its pools, the shared endpoint states, its balancer and retry budget.
///
/// An exchange holds the runtime it started with, so a reload that renumbers or removes upstreams never
/// changes what an exchange in flight sees (SPEC §7: "requests in flight finish on the config they started with").
final class UpstreamRuntime {
    /// Index of the upstream in the config this runtime was built for (telemetry labels).
    let index: Int
    let name: String
    let config: UpstreamConfig
    let pools: [EndpointPool]
    let states: [EndpointState]
    var balancer: LoadBalancer
    /// Requests in flight and retries among them (SPEC §3 retry budget).
    var budget = RetryBudgetTracker()

    init(index: Int, config: UpstreamConfig, pools: [EndpointPool], states: [EndpointState]) {
        self.index = index
        name = config.name
        self.config = config
        self.pools = pools
        self.states = states
        balancer = LoadBalancer(kind: BalanceKind(rawValue: config.balance.rawValue) ?? .roundRobin)
    }

    /// The balancer's choice among endpoints that are healthy and whose breaker is not open, preferring one
    /// other than `avoiding` (a retry); nil when none is eligible.
    func pick(avoiding: Int?, nowMs: Int64, random: UInt64) -> Int? {
        let states = self.states
        let pools = self.pools
        return balancer.pick(
            count: states.count, avoiding: avoiding, random: random,
            eligible: { states[$0].isHealthy && states[$0].breaker.wouldAdmit(nowMs: nowMs) },
            active: { pools[$0].active })
    }

    /// Whether some endpoint could take an attempt now (healthy, breaker not open), without picking one.
    func hasEligibleEndpoint(nowMs: Int64) -> Bool {
        states.contains { $0.isHealthy && $0.breaker.peek(nowMs: nowMs) != .open }
    }

    /// Whether a retry would fit the budget now, without taking it.
    var retryAvailable: Bool {
        budget.budget.tryAcquireRetry(inFlight: budget.inFlight, activeRetries: budget.activeRetries)
    }
}
