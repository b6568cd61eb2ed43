/// The immutable retry policy of a route (SPEC §3 `retry`), and the pure "would retry" decision.
///
/// Like Envoy's `RetryPolicyImpl` + `RetryDecision`: this answers only whether the failure, the request and the
/// attempt count allow another try. The retry budget, the deadline and the back-off timer are the caller's
/// (`RetryBudget`, `Backoff`).
public struct RetryPolicy: Sendable, Equatable {
    /// The `on` conditions.
    public struct Conditions: OptionSet, Sendable, Hashable {
        /// Raw bits.
        public let rawValue: UInt8
        /// Creates from raw bits.
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// `connect-failure`.
        public static let connectFailure = Conditions(rawValue: 1 << 0)
        /// `reset`: connection lost before a complete response head.
        public static let reset = Conditions(rawValue: 1 << 1)
        /// `timeout`: `per_try_timeout_ms` expired.
        public static let timeout = Conditions(rawValue: 1 << 2)
        /// `gateway-error`: 502, 503, 504.
        public static let gatewayError = Conditions(rawValue: 1 << 3)
        /// `5xx`: any 500…599.
        public static let serverError = Conditions(rawValue: 1 << 4)
        /// `grpc-unavailable`: a gRPC call answered Trailers-Only with grpc-status 14 (SPEC §10).
        public static let grpcUnavailable = Conditions(rawValue: 1 << 5)
        /// `grpc-resource-exhausted`: grpc-status 8.
        public static let grpcResourceExhausted = Conditions(rawValue: 1 << 6)
        /// `grpc-cancelled`: grpc-status 1.
        public static let grpcCancelled = Conditions(rawValue: 1 << 7)

        /// Parses one config name (`connect-failure`, `reset`, `timeout`, `gateway-error`, `5xx`, `grpc-unavailable`,
        /// `grpc-resource-exhausted`, `grpc-cancelled`); nil if unknown.
        public init?(configName: String) {
            switch configName {
            case "connect-failure": self = .connectFailure
            case "reset": self = .reset
            case "timeout": self = .timeout
            case "gateway-error": self = .gatewayError
            case "5xx": self = .serverError
            case "grpc-unavailable": self = .grpcUnavailable
            case "grpc-resource-exhausted": self = .grpcResourceExhausted
            case "grpc-cancelled": self = .grpcCancelled
            default: return nil
            }
        }
    }

    /// Largest request body (bytes) kept for replay; a bigger body is never retried (SPEC §3).
    public static let maxBufferedBodyBytes = 64 * 1024

    /// Retries after the first attempt (0 = off).
    public let retries: Int
    /// Which failures are retried.
    public let on: Conditions
    /// Extra statuses that are retried (SPEC `statuses`).
    public let statuses: [Int]
    /// Back-off base in milliseconds.
    public let backoffBaseMs: Int
    /// Back-off cap in milliseconds.
    public let backoffMaxMs: Int

    /// Creates a policy; negative numbers count as 0.
    public init(retries: Int, on: Conditions, statuses: [Int] = [], backoffBaseMs: Int = 25, backoffMaxMs: Int = 250) {
        self.retries = max(0, retries)
        self.on = on
        self.statuses = statuses
        self.backoffBaseMs = max(0, backoffBaseMs)
        self.backoffMaxMs = max(0, backoffMaxMs)
    }

    /// The policy of a route without `retry` (SPEC §3): 2 retries on connect-failure, reset, timeout,
    /// gateway-error, back-off 25…250 ms.
    public static let `default` = RetryPolicy(
        retries: 2, on: [.connectFailure, .reset, .timeout, .gatewayError], statuses: [],
        backoffBaseMs: 25, backoffMaxMs: 250)

    /// `"retry": {"retries": 0}`.
    public static let disabled = RetryPolicy(retries: 0, on: [], statuses: [], backoffBaseMs: 0, backoffMaxMs: 0)

    /// True when `failure` is one of the policy's `on` conditions or `statuses`.
    public func covers(_ failure: AttemptFailure) -> Bool {
        switch failure {
        case .connectFailure: return on.contains(.connectFailure)
        case .reset: return on.contains(.reset)
        case .timeout: return on.contains(.timeout)
        case .status(let code):
            if on.contains(.serverError), (500...599).contains(code) { return true }
            if on.contains(.gatewayError), (502...504).contains(code) { return true }
            return statuses.contains(code)
        case .grpcStatus(let code):
            switch code {
            case 14: return on.contains(.grpcUnavailable)
            case 8: return on.contains(.grpcResourceExhausted)
            case 1: return on.contains(.grpcCancelled)
            default: return false
            }
        }
    }

    /// The pure retry decision of SPEC §3.
    ///
    /// - Parameters:
    ///   - failure: how the last attempt failed.
    ///   - idempotent: the request method is GET, HEAD, OPTIONS, PUT or DELETE (`HTTPMethod.isIdempotent`, the one rule).
    ///   - bodyBuffered: the whole request body is kept (≤ 64 KiB), so it can be sent again.
    ///   - responseBytesSentToClient: some response bytes already went downstream.
    ///   - attemptsSoFar: attempts made, the failed one included (1 after the first try).
    /// - Returns: true when another attempt is allowed (budget and deadline are checked by the caller).
    public func wouldRetry(
        failure: AttemptFailure, method idempotent: Bool, bodyBuffered: Bool,
        responseBytesSentToClient: Bool, attemptsSoFar: Int
    ) -> Bool {
        guard attemptsSoFar >= 1, attemptsSoFar <= retries, covers(failure) else { return false }
        // Nothing of the response can be taken back once it reached the client.
        guard !responseBytesSentToClient else { return false }
        // A connect failure sent nothing upstream: safe for any method and any body (pingora failover.md).
        if failure == .connectFailure { return true }
        // SPEC §10: a gRPC call is a POST; the codes it names say the call was not processed, so a buffered
        // call is sent again whatever its method.
        if case .grpcStatus = failure { return bodyBuffered }
        return idempotent && bodyBuffered
    }

    /// The back-off before retry number `retry` (0 = the first retry), full jitter from `random`.
    public func backoffMs(retry: Int, random: UInt64) -> Int {
        Backoff.fullJitter(attempt: retry, baseMs: backoffBaseMs, maxMs: backoffMaxMs, random: random)
    }
}
