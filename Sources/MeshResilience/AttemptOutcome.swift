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
    /// A gRPC call was answered Trailers-Only with this `grpc-status` (SPEC §10); only the codes `retry.on`
    /// names are ever a failure.
    case grpcStatus(Int)
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
    /// A gRPC call answered with `grpc-status` 14 UNAVAILABLE (SPEC §10: a breaker failure).
    case grpcUnavailable

    /// Classifies a failure (a status below 500 is a success for metrics and the breaker).
    public init(_ failure: AttemptFailure) {
        switch failure {
        case .connectFailure: self = .connectFailure
        case .reset: self = .reset
        case .timeout: self = .timeout
        case .status(let code): self = AttemptOutcome(status: code)
        case .grpcStatus(let code): self = AttemptOutcome(grpcStatus: code)
        }
    }

    /// Classifies a complete response by its status.
    public init(status: Int) {
        self = (500...599).contains(status) ? .http5xx : .success
    }

    /// Classifies a gRPC answer: UNAVAILABLE is the endpoint failing; every other code is the call's own
    /// outcome (and the HTTP status of a gRPC response says nothing about the call).
    public init(grpcStatus: Int) {
        self = grpcStatus == 14 ? .grpcUnavailable : .success
    }

    /// The metric label: `success|connect_failure|reset|timeout|http_5xx|grpc_unavailable`.
    public var label: String {
        switch self {
        case .success: "success"
        case .connectFailure: "connect_failure"
        case .reset: "reset"
        case .timeout: "timeout"
        case .http5xx: "http_5xx"
        case .grpcUnavailable: "grpc_unavailable"
        }
    }

    /// True for the failures that count toward opening the endpoint's breaker (SPEC §3: connect failure,
    /// reset, timeout, 5xx; SPEC §10: grpc-status 14).
    public var countsAsBreakerFailure: Bool {
        self != .success
    }
}
