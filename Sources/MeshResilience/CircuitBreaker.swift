/// Circuit breaker states, named as in gobreaker and SPEC §3.
public enum BreakerState: Sendable, Equatable {
    /// Requests flow; consecutive failures are counted.
    case closed
    /// Requests are rejected until `openMs` has passed.
    case open
    /// A limited number of probe requests decide whether to close or re-open.
    case halfOpen

    /// Value of `meshgate_circuit_breaker_state` (SPEC §6): 0 closed, 1 open, 2 half-open.
    public var metricValue: Int {
        switch self {
        case .closed: 0
        case .open: 1
        case .halfOpen: 2
        }
    }

    /// Label used by `/upstreams` and the `to` label of the transitions counter: `closed|open|half_open`.
    public var label: String {
        switch self {
        case .closed: "closed"
        case .open: "open"
        case .halfOpen: "half_open"
        }
    }
}

/// Immutable breaker settings (SPEC §3 `circuit_breaker`); defaults are the SPEC's.
public struct CircuitBreakerSettings: Sendable, Equatable {
    /// Consecutive failures that open a closed breaker (≥ 1).
    public var consecutiveFailures: Int
    /// Milliseconds an open breaker waits before half-opening (≥ 0).
    public var openMs: Int64
    /// Probes admitted concurrently while half-open (≥ 1).
    public var halfOpenRequests: Int

    /// Creates settings; values below the minimum are raised to it (gobreaker normalises zero values once).
    public init(consecutiveFailures: Int = 5, openMs: Int64 = 30_000, halfOpenRequests: Int = 1) {
        self.consecutiveFailures = max(1, consecutiveFailures)
        self.openMs = max(0, openMs)
        self.halfOpenRequests = max(1, halfOpenRequests)
    }
}

/// A consecutive-failures circuit breaker with gobreaker's generation rule and explicit time.
///
/// The caller reads the clock once and passes `nowMs` (monotonic milliseconds). Every state change starts a new
/// generation; a `Ticket` from an older generation is ignored by `record`, so a late answer can never corrupt a
/// fresh state. Not thread-safe by itself: wrap it in `SharedCircuitBreaker` to share it between workers.
public struct CircuitBreaker: Sendable {
    /// Proof of admission; hand it back to `record` or `abandon` exactly once.
    public struct Ticket: Sendable, Equatable {
        /// Generation the request was admitted in.
        public let generation: UInt64
        /// True when the request was admitted as a half-open probe.
        public let isProbe: Bool
    }

    /// A state change, returned so the caller can log it and count it.
    public struct Transition: Sendable, Equatable {
        /// State before the change.
        public let from: BreakerState
        /// State after the change.
        public let to: BreakerState

        /// Creates a transition.
        public init(from: BreakerState, to: BreakerState) {
            self.from = from
            self.to = to
        }
    }

    /// The result of `admit`: a ticket (nil = rejected) and the lazy open → half-open change, if one happened.
    public struct Admission: Sendable, Equatable {
        /// Ticket for the admitted request, or nil when the breaker rejects it.
        public let ticket: Ticket?
        /// `open → halfOpen` when admitting made the breaker half-open.
        public let transition: Transition?
    }

    /// The settings the breaker was created with.
    public let settings: CircuitBreakerSettings
    /// Current state as of the last call (an expired `.open` is reported only by `state(nowMs:)`).
    public private(set) var storedState: BreakerState = .closed
    /// Current generation; bumped on every state change.
    public private(set) var generation: UInt64 = 0
    /// Consecutive failures counted in the closed state.
    public private(set) var consecutiveFailures: Int = 0
    /// Probes admitted and not yet recorded in the half-open state.
    public private(set) var probesInFlight: Int = 0
    private var openUntilMs: Int64 = 0

    /// Creates a closed breaker.
    public init(settings: CircuitBreakerSettings = CircuitBreakerSettings()) {
        self.settings = settings
    }

    /// The state at `nowMs`, half-opening lazily when the open period has passed.
    public mutating func state(nowMs: Int64) -> BreakerState {
        _ = refresh(nowMs: nowMs)
        return storedState
    }

    /// The state at `nowMs` without changing anything: an open breaker past `openMs` reads as half-open, but
    /// the transition itself is left to `admit`, which reports it (so it is counted and logged once).
    public func peek(nowMs: Int64) -> BreakerState {
        storedState == .open && nowMs >= openUntilMs ? .halfOpen : storedState
    }

    /// Whether `admit` at `nowMs` would let a request through, without changing anything: closed, or half-open
    /// with a probe free. Balancers pick by this, so a half-open endpoint whose probes are taken is passed over for
    /// another endpoint instead of being picked and then refused.
    public func wouldAdmit(nowMs: Int64) -> Bool {
        switch peek(nowMs: nowMs) {
        case .closed: true
        case .open: false
        case .halfOpen: storedState == .open || probesInFlight < settings.halfOpenRequests
        }
    }

    /// Moves `open → halfOpen` when `openMs` has elapsed; returns that transition, or nil.
    public mutating func refresh(nowMs: Int64) -> Transition? {
        guard storedState == .open, nowMs >= openUntilMs else { return nil }
        return setState(.halfOpen, nowMs: nowMs)
    }

    /// Admits a request or rejects it (nil). Half-open admits at most `halfOpenRequests` concurrent probes.
    public mutating func allow(nowMs: Int64) -> Ticket? {
        admit(nowMs: nowMs).ticket
    }

    /// Like `allow`, and also reports the lazy `open → halfOpen` transition.
    public mutating func admit(nowMs: Int64) -> Admission {
        let transition = refresh(nowMs: nowMs)
        switch storedState {
        case .closed:
            return Admission(ticket: Ticket(generation: generation, isProbe: false), transition: transition)
        case .open:
            return Admission(ticket: nil, transition: transition)
        case .halfOpen:
            guard probesInFlight < settings.halfOpenRequests else {
                return Admission(ticket: nil, transition: transition)
            }
            probesInFlight += 1
            return Admission(ticket: Ticket(generation: generation, isProbe: true), transition: transition)
        }
    }

    /// Records the outcome of an admitted request; returns the transition it caused, if any.
    ///
    /// Closed: a failure counts, `consecutiveFailures` of them open the breaker; a success resets the count.
    /// Half-open: a success closes, a failure re-opens (SPEC §3). Tickets of older generations are ignored.
    public mutating func record(_ ticket: Ticket, success: Bool, nowMs: Int64) -> Transition? {
        _ = refresh(nowMs: nowMs)
        guard ticket.generation == generation else { return nil }
        switch storedState {
        case .closed:
            if success {
                consecutiveFailures = 0
                return nil
            }
            consecutiveFailures += 1
            return consecutiveFailures >= settings.consecutiveFailures ? setState(.open, nowMs: nowMs) : nil
        case .halfOpen:
            probesInFlight -= 1
            return setState(success ? .closed : .open, nowMs: nowMs)
        case .open:
            // Unreachable for a current-generation ticket: opening bumps the generation.
            return nil
        }
    }

    /// Returns a ticket without a verdict (the client went away before the upstream answered).
    ///
    /// Frees the probe slot in half-open so the breaker cannot be stuck waiting for a result that never comes.
    public mutating func abandon(_ ticket: Ticket) {
        guard ticket.generation == generation, storedState == .halfOpen, ticket.isProbe else { return }
        probesInFlight -= 1
    }

    private mutating func setState(_ newState: BreakerState, nowMs: Int64) -> Transition? {
        let old = storedState
        guard old != newState else { return nil }
        storedState = newState
        generation &+= 1
        consecutiveFailures = 0
        probesInFlight = 0
        if newState == .open {
            // Saturating: a huge openMs must not wrap into the past.
            let (sum, overflow) = nowMs.addingReportingOverflow(settings.openMs)
            openUntilMs = overflow ? Int64.max : sum
        }
        return Transition(from: old, to: newState)
    }
}
