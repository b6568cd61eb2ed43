import MeshSync

/// A `CircuitBreaker` shared by all workers (SPEC §3: "State is shared by all workers").
///
/// The mutex is held only for the few lines of one call; no I/O or logging happens under it.
/// The returned transitions are for the caller to log and count, outside the lock.
public final class SharedCircuitBreaker: Sendable {
    private let breaker: Locked<CircuitBreaker>

    /// Creates a closed shared breaker.
    public init(settings: CircuitBreakerSettings = CircuitBreakerSettings()) {
        breaker = Locked(CircuitBreaker(settings: settings))
    }

    /// The settings it was created with.
    public var settings: CircuitBreakerSettings {
        breaker.withLock { $0.settings }
    }

    /// See `CircuitBreaker.state(nowMs:)`.
    public func state(nowMs: Int64) -> BreakerState {
        breaker.withLock { $0.state(nowMs: nowMs) }
    }

    /// See `CircuitBreaker.peek(nowMs:)`: reading, for balancers, dashboards and gauges.
    public func peek(nowMs: Int64) -> BreakerState {
        breaker.withLock { $0.peek(nowMs: nowMs) }
    }

    /// See `CircuitBreaker.wouldAdmit(nowMs:)`.
    public func wouldAdmit(nowMs: Int64) -> Bool {
        breaker.withLock { $0.wouldAdmit(nowMs: nowMs) }
    }

    /// See `CircuitBreaker.allow(nowMs:)`.
    public func allow(nowMs: Int64) -> CircuitBreaker.Ticket? {
        breaker.withLock { $0.allow(nowMs: nowMs) }
    }

    /// See `CircuitBreaker.admit(nowMs:)`.
    public func admit(nowMs: Int64) -> CircuitBreaker.Admission {
        breaker.withLock { $0.admit(nowMs: nowMs) }
    }

    /// See `CircuitBreaker.record(_:success:nowMs:)`.
    public func record(_ ticket: CircuitBreaker.Ticket, success: Bool, nowMs: Int64) -> CircuitBreaker.Transition? {
        breaker.withLock { $0.record(ticket, success: success, nowMs: nowMs) }
    }

    /// See `CircuitBreaker.abandon(_:)`.
    public func abandon(_ ticket: CircuitBreaker.Ticket) {
        breaker.withLock { $0.abandon(ticket) }
    }

    /// See `CircuitBreaker.refresh(nowMs:)` (e.g. for the admin page or the state gauge).
    public func refresh(nowMs: Int64) -> CircuitBreaker.Transition? {
        breaker.withLock { $0.refresh(nowMs: nowMs) }
    }
}
