/// Exponential back-off with full jitter (SPEC §3: `sleep = random(0, min(max, base * 2^try))`).
public enum Backoff {
    /// The upper bound `min(maxMs, baseMs · 2^attempt)`, saturating instead of overflowing.
    ///
    /// Negative inputs count as 0; `attempt` 0 gives `baseMs` (capped by `maxMs`).
    public static func capMs(attempt: Int, baseMs: Int, maxMs: Int) -> Int {
        let base = max(0, baseMs)
        let limit = max(0, maxMs)
        let shift = max(0, attempt)
        // base << shift overflows once shift ≥ 63 or base > limit >> shift; either way the cap is `limit`.
        guard shift < Int.bitWidth - 1, base <= (limit >> shift) else { return limit }
        return base << shift
    }

    /// A delay drawn uniformly (up to modulo bias of ≤ 2^-40 for realistic caps) from `[0, cap]`.
    ///
    /// `random` is a fresh 64-bit random number from the caller (the gateway draws it from libcrypto).
    public static func fullJitter(attempt: Int, baseMs: Int, maxMs: Int, random: UInt64) -> Int {
        let cap = capMs(attempt: attempt, baseMs: baseMs, maxMs: maxMs)
        guard cap > 0 else { return 0 }
        return Int(random % (UInt64(cap) + 1))
    }
}
