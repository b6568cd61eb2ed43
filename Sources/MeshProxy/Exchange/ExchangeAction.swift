import MeshConfig
import MeshJWT
import MeshResilience

/// What the driver does after feeding the exchange machine an event. The machine never performs I/O; the
/// driver never decides: every "what next" of SPEC §3–§4 is one of these.
public enum ExchangeAction: Sendable, Equatable {
    /// Nothing to decide: keep moving bytes.
    case proceed
    /// Pick an endpoint, write the upstream head (and the buffered body) and connect. `sendContinue`: the
    /// client asked `Expect: 100-continue` and will wait for it before sending the body.
    case startAttempt(sendContinue: Bool)
    /// The previous connection was a stale keep-alive one: send the same attempt again at once, without
    /// counting it or judging the endpoint (nothing reached the upstream).
    case resend
    /// A retry was decided and its slot of the retry budget taken: count it, and start the attempt now or
    /// when the machine's timer fires (`state == .backingOff`).
    case retry(now: Bool)
    /// End the attempt in progress as this failure (close its connection, book it), then feed
    /// `attemptFailed`.
    case abortAttempt(AttemptFailure)
    /// Forward the upstream's response head and the body that follows.
    case forward
    /// Answer with the route's fallback for this reason.
    case fallback(FallbackOn)
    /// Answer with a gateway error; `close` closes the client connection after it.
    case fail(GatewayError, close: Bool)
    /// The JWT keys the request waited for never came: 401 `invalid_token` (SPEC §3).
    case keysTimedOut
    /// A global rate limit's store did not answer in time: `on_error` decides (SPEC §11).
    case limitTimedOut
    /// Close the client connection now: a response already started cannot be answered any other way.
    case closeClient
}

/// What the machine asks of the world when it decides on a retry. The driver answers from the worker's
/// upstream state; tests answer with plain values.
public protocol RetryEnvironment {
    /// Some endpoint of the upstream is healthy with its breaker not open (a retry could be sent).
    func endpointAvailable(nowMs: Int64) -> Bool
    /// Takes one slot of the upstream's retry budget; false when the budget is spent.
    func takeRetryBudget() -> Bool
    /// A random number for the back-off's jitter.
    func random() -> UInt64
}

extension GatewayError {
    /// The answer when an attempt's failure is final and no fallback covers it (SPEC §4's table).
    public init(_ failure: AttemptFailure) {
        switch failure {
        case .connectFailure, .reset, .status: self = .badGateway
        case .timeout: self = .gatewayTimeout
        // Only reached when no endpoint is left for a retry after an UNAVAILABLE-like answer.
        case .grpcStatus: self = .unavailable
        }
    }
}

extension GatewayError {
    /// The answer to a token the JWT stage refused (SPEC §3): 403 for claims, 401 for everything else.
    public init(_ error: JWTError) {
        self = error.isForbidden ? .forbidden : .unauthorized
    }
}

extension FallbackOn {
    /// The fallback reason an attempt's final failure falls under.
    public init(_ failure: AttemptFailure) {
        switch failure {
        case .connectFailure: self = .connectFailure
        case .timeout: self = .timeout
        case .reset, .status, .grpcStatus: self = .fiveXX
        }
    }
}
