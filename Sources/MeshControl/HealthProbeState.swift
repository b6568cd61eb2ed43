/// The threshold rule of active health checks for one endpoint (SPEC §3 `health_check`), as a pure value:
/// probe outcomes in, health transitions out. No clock, no I/O.
///
/// Starts where the endpoint is (`.unknown` for a new one). `unhealthyThreshold` consecutive failures make it
/// `.unhealthy`, `healthyThreshold` consecutive successes make it `.healthy`; a result of the other kind resets
/// the count, so flapping endpoints never reach either threshold.
public struct HealthProbeState: Sendable, Equatable {
    /// The current verdict.
    public private(set) var health: EndpointHealth
    /// Successes in a row since the last failure.
    public private(set) var consecutiveSuccesses = 0
    /// Failures in a row since the last success.
    public private(set) var consecutiveFailures = 0
    /// Successes needed to become healthy (≥ 1).
    public let healthyThreshold: Int
    /// Failures needed to become unhealthy (≥ 1).
    public let unhealthyThreshold: Int

    /// Creates the state for an endpoint currently at `health`.
    public init(health: EndpointHealth = .unknown, healthyThreshold: Int, unhealthyThreshold: Int) {
        self.health = health
        self.healthyThreshold = max(1, healthyThreshold)
        self.unhealthyThreshold = max(1, unhealthyThreshold)
    }

    /// Records one probe; returns the new health when this probe changed it, nil otherwise.
    public mutating func record(success: Bool) -> EndpointHealth? {
        if success {
            consecutiveFailures = 0
            consecutiveSuccesses += 1
            guard health != .healthy, consecutiveSuccesses >= healthyThreshold else { return nil }
            health = .healthy
        } else {
            consecutiveSuccesses = 0
            consecutiveFailures += 1
            guard health != .unhealthy, consecutiveFailures >= unhealthyThreshold else { return nil }
            health = .unhealthy
        }
        return health
    }
}
