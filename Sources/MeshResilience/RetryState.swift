/// Whether an exchange tries again after an attempt failed, and when (SPEC §3): the one decision behind a
/// failed connection, a reset, a timeout and a retryable status, so the gateway cannot answer the same
/// question two ways.
///
/// Pure: the caller states what it knows (time, budget, endpoints) and performs the answer. The budget is
/// only looked at here; the caller takes it when it acts on `.retry`.
public struct RetryState: Sendable, Equatable {
    /// Attempts made, the failed one included.
    public var attempts: Int
    /// The method may be sent twice (`HTTPMethod.isIdempotent`, SPEC §3's one rule).
    public var idempotent: Bool
    /// The whole request (≤ 64 KiB of body) is kept, so it can be sent again.
    public var replayable: Bool
    /// Some of the response already reached the client: nothing can be taken back.
    public var responseStarted: Bool
    /// The route's deadline (`timeout_ms` across all tries), loop milliseconds; `.max` while the request is
    /// still being received.
    public var deadlineMs: Int64

    public init(attempts: Int, idempotent: Bool, replayable: Bool, responseStarted: Bool, deadlineMs: Int64) {
        self.attempts = attempts
        self.idempotent = idempotent
        self.replayable = replayable
        self.responseStarted = responseStarted
        self.deadlineMs = deadlineMs
    }

    public enum Decision: Sendable, Equatable {
        /// Try again at `atMs` (now when the back-off is 0; never past the deadline).
        case retry(atMs: Int64)
        /// Answer with this failure (fallback or gateway error).
        case giveUp
    }

    /// - Parameters:
    ///   - budgetAvailable: the upstream's retry budget would admit one more retry now.
    ///   - endpointAvailable: some endpoint is healthy and its breaker not open (a retry could be sent).
    ///   - random: for the back-off's full jitter.
    public func decide(
        after failure: AttemptFailure, policy: RetryPolicy, nowMs: Int64, budgetAvailable: Bool,
        endpointAvailable: Bool, random: UInt64
    ) -> Decision {
        guard
            policy.wouldRetry(
                failure: failure, method: idempotent, bodyBuffered: replayable,
                responseBytesSentToClient: responseStarted, attemptsSoFar: attempts),
            nowMs < deadlineMs, budgetAvailable, endpointAvailable
        else { return .giveUp }
        let backoff = Int64(policy.backoffMs(retry: attempts - 1, random: random))
        return .retry(atMs: backoff <= 0 ? nowMs : min(deadlineMs, nowMs + backoff))
    }
}
