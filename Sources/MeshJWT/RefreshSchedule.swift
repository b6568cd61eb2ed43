/// Pure timing rules for fetching `jwks.url` (SPEC §3). The gateway owns the HTTP fetch and the timers; these
/// functions only decide, with time passed in, so they are tested without clocks.
public enum RefreshSchedule {
    /// SPEC §3: an unknown `kid` triggers at most one refetch per 30 s, so forged kids cannot make us hammer
    /// the issuer.
    public static let unknownKidInterval: Int64 = 30

    /// First retry delay after a failed refresh, in milliseconds.
    public static let initialBackoffMilliseconds: Int64 = 1_000

    /// True when an unknown-kid refetch may start at `now` (unix seconds), given when the last one started.
    public static func refetchAllowed(lastRefetch: Int64?, now: Int64) -> Bool {
        guard let lastRefetch else { return true }
        // A clock that went backwards must not block refetches forever.
        return now - lastRefetch >= unknownKidInterval || now < lastRefetch
    }

    /// Delay before retrying after `consecutiveFailures` (≥ 1) failed refreshes: 1 s, 2 s, 4 s, … doubling,
    /// capped at `capMilliseconds` (the gateway passes `refresh_ms`, so a failing issuer is never polled less
    /// often than a healthy one). Deterministic; the caller may add jitter.
    public static func backoffMilliseconds(consecutiveFailures: Int, capMilliseconds: Int64) -> Int64 {
        guard consecutiveFailures > 0 else { return 0 }
        let cap = max(capMilliseconds, initialBackoffMilliseconds)
        let exponent = min(consecutiveFailures - 1, 30)
        let (delay, overflow) = initialBackoffMilliseconds.multipliedReportingOverflow(by: Int64(1) << Int64(exponent))
        return overflow ? cap : min(delay, cap)
    }
}
