/// A rate limit's policy: `requests_per_second` and `burst`, as the Generic Cell Rate Algorithm sees them.
///
/// GCRA keeps one number per key, the theoretical arrival time (TAT): the instant at which the bucket would be
/// full again. A request at `now` is admitted when `max(tat, now) + T - now <= τ`, where `T = 1 s / rate` is the
/// emission interval and `τ = burst · T` the tolerance. That is a token bucket of `burst` tokens refilled at
/// `rate`, in one word instead of two (tokens and last refill), which is what lets the process store update a key
/// with a single compare-and-swap.
///
/// Times are monotonic nanoseconds given by the caller (`now`); nothing here reads a clock.
public struct GCRAPolicy: Sendable, Equatable {
    /// `T`: nanoseconds one request "costs".
    public let emissionIntervalNs: Int64
    /// Requests admitted at once from a full bucket.
    public let burst: Int

    /// - Parameters:
    ///   - requestsPerSecond: the refill rate, > 0 (fractions allowed: 0.5 is one request every 2 s).
    ///   - burst: the bucket size, ≥ 1.
    public init(requestsPerSecond: Double, burst: Int) {
        precondition(requestsPerSecond > 0 && requestsPerSecond.isFinite, "rate must be positive")
        precondition(burst >= 1, "burst must be at least 1")
        // Clamped so `burst · T` stays far from overflow for any configurable value (a day per request at most).
        let interval = (1e9 / requestsPerSecond).rounded()
        emissionIntervalNs = Int64(min(max(interval, 1), 86_400e9))
        self.burst = burst
    }

    /// `τ`: how far ahead of `now` the TAT may run.
    public var toleranceNs: Int64 { emissionIntervalNs * Int64(burst) }

    /// The `w` of `ratelimit-policy`: seconds an empty bucket takes to refill completely (at least 1).
    public var windowSeconds: Int { Self.ceilSeconds(toleranceNs) }

    /// Judges one request at `now` against a key whose stored TAT is `tat` (0 for a key never seen).
    ///
    /// Returns the decision and, when admitted, the TAT to store; a denial leaves the key unchanged, so denied
    /// requests do not push the key further into debt (a client hammering at a closed door is not punished
    /// beyond the limit; it gets in as soon as the rate allows).
    @inline(__always)
    public func evaluate(tat: Int64, now: Int64) -> (decision: RateLimitDecision, newTat: Int64?) {
        let base = max(tat, now)
        let newTat = base + emissionIntervalNs
        let ahead = newTat - now
        if ahead <= toleranceNs {
            let remaining = Int((toleranceNs - ahead) / emissionIntervalNs)
            return (.allowed(remaining: remaining, resetNs: ahead), newTat)
        }
        return (.denied(retryAfterNs: ahead - toleranceNs, resetNs: base - now), nil)
    }

    /// Whole seconds, rounded up: a client told "retry after 0" would come back too early.
    @inline(__always)
    public static func ceilSeconds(_ ns: Int64) -> Int {
        guard ns > 0 else { return 0 }
        return Int((ns + 999_999_999) / 1_000_000_000)
    }
}

/// What a rate limiter says about one request, with what the response headers need.
public enum RateLimitDecision: Sendable, Equatable {
    /// Admitted. `remaining`: requests that would still be admitted at this instant; `resetNs`: until the
    /// bucket is full again.
    case allowed(remaining: Int, resetNs: Int64)
    /// Over the limit: answer 429. `retryAfterNs`: until one request would be admitted; `resetNs`: until full.
    case denied(retryAfterNs: Int64, resetNs: Int64)

    public var isAllowed: Bool {
        if case .allowed = self { return true }
        return false
    }

    /// `r` of the `ratelimit` field.
    public var remaining: Int {
        if case .allowed(let remaining, _) = self { return remaining }
        return 0
    }

    /// `t` of the `ratelimit` field, in whole seconds (rounded up).
    public var resetSeconds: Int {
        switch self {
        case .allowed(_, let reset), .denied(_, let reset): GCRAPolicy.ceilSeconds(reset)
        }
    }

    /// `retry-after` in whole seconds (rounded up, at least 1) when denied; nil when admitted.
    public var retryAfterSeconds: Int? {
        if case .denied(let wait, _) = self { return max(1, GCRAPolicy.ceilSeconds(wait)) }
        return nil
    }
}
