import MeshConfig
import MeshResilience
import MeshSync
import Synchronization

/// Health of an endpoint as active health checks see it (SPEC §6 `/upstreams`).
public enum EndpointHealth: UInt8, Sendable {
    case unknown = 0
    case healthy = 1
    case unhealthy = 2

    public var label: String {
        switch self {
        case .unknown: "unknown"
        case .healthy: "healthy"
        case .unhealthy: "unhealthy"
        }
    }
}

/// Process-wide state of one endpoint, shared by every worker and the control plane.
///
/// Keyed by upstream name and configured address, so it survives a reload that keeps the endpoint
/// (SPEC §7: "Circuit-breaker state of unchanged endpoints survives").
public final class EndpointState: Sendable {
    public let upstream: String
    public let address: HostPort
    public let breaker: SharedCircuitBreaker
    private let healthValue = Atomic<UInt8>(EndpointHealth.unknown.rawValue)

    init(upstream: String, address: HostPort, breaker: CircuitBreakerConfig) {
        self.upstream = upstream
        self.address = address
        self.breaker = SharedCircuitBreaker(
            settings: CircuitBreakerSettings(
                consecutiveFailures: breaker.consecutiveFailures, openMs: Int64(breaker.openMs),
                halfOpenRequests: breaker.halfOpenRequests))
    }

    public var health: EndpointHealth {
        get { EndpointHealth(rawValue: healthValue.load(ordering: .relaxed)) ?? .unknown }
    }

    public func setHealth(_ health: EndpointHealth) { healthValue.store(health.rawValue, ordering: .relaxed) }

    /// The balancer may pick it: not marked unhealthy by health checks (the breaker is asked separately).
    public var isHealthy: Bool { health != .unhealthy }
}

/// All `EndpointState`s of the process, found again by (upstream, address) on reload.
public final class EndpointRegistry: Sendable {
    private let states = Locked<[String: EndpointState]>([:])

    public init() {}

    /// The state for the endpoint, created on first use. A changed breaker config starts a fresh breaker.
    public func state(upstream: UpstreamConfig, address: HostPort) -> EndpointState {
        let key = "\(upstream.name)/\(address)"
        return states.withLock { states in
            if let existing = states[key], existing.breaker.settings == Self.settings(upstream.circuitBreaker) {
                return existing
            }
            let created = EndpointState(upstream: upstream.name, address: address, breaker: upstream.circuitBreaker)
            states[key] = created
            return created
        }
    }

    /// `states[upstream index][endpoint index]` for a config, in its order.
    public func states(for config: GatewayConfig) -> [[EndpointState]] {
        config.upstreamOrder.map { name in
            let upstream = config.upstreams[name]!
            return upstream.endpoints.map { state(upstream: upstream, address: $0) }
        }
    }

    static func settings(_ c: CircuitBreakerConfig) -> CircuitBreakerSettings {
        CircuitBreakerSettings(
            consecutiveFailures: c.consecutiveFailures, openMs: Int64(c.openMs),
            halfOpenRequests: c.halfOpenRequests)
    }
}
