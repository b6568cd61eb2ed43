/// Why an upstream attempt did not produce a usable response (input to the retry decision).
public enum AttemptFailure: Sendable, Equatable {
    /// The connection could not be established; nothing was sent (always safe to retry).
    case connectFailure
    /// The connection was lost before a complete response head arrived.
    case reset
    /// `per_try_timeout_ms` expired.
    case timeout
    /// A complete response head arrived with this status.
    case status(Int)
}

/// The outcome of one upstream attempt, with the SPEC §6 label of
/// `meshgate_upstream_requests_total{outcome}`. Labels come from here, never from strings built at call sites.
public enum AttemptOutcome: Sendable, Equatable, CaseIterable {
    /// A response with a status below 500.
    case success
    /// See `AttemptFailure.connectFailure`.
    case connectFailure
    /// See `AttemptFailure.reset`.
    case reset
    /// See `AttemptFailure.timeout`.
    case timeout
    /// A 5xx response.
    case http5xx

    /// Classifies a failure (a status below 500 is a success for metrics and the breaker).
    public init(_ failure: AttemptFailure) {
        switch failure {
        case .connectFailure: self = .connectFailure
        case .reset: self = .reset
        case .timeout: self = .timeout
        case .status(let code): self = AttemptOutcome(status: code)
        }
    }

    /// Classifies a complete response by its status.
    public init(status: Int) {
        self = (500...599).contains(status) ? .http5xx : .success
    }

    /// The metric label: `success|connect_failure|reset|timeout|http_5xx`.
    public var label: String {
        switch self {
        case .success: "success"
        case .connectFailure: "connect_failure"
        case .reset: "reset"
        case .timeout: "timeout"
        case .http5xx: "http_5xx"
        }
    }

    /// True for the failures that count toward opening the endpoint's breaker (SPEC §3: connect failure,
    /// reset, timeout, 5xx).
    public var countsAsBreakerFailure: Bool {
        self != .success
    }
}
