/// The head-based sampling decision for new traces (`tracing.sample_ratio`).
public enum SampleDecision {
    /// True with probability `ratio` for a uniformly random `random`.
    ///
    /// Uses the top 53 bits as a fraction in [0, 1): ratio ≤ 0 (or NaN) never samples, ratio ≥ 1 always does.
    public static func sampled(ratio: Double, random: UInt64) -> Bool {
        guard ratio > 0 else { return false }
        guard ratio < 1 else { return true }
        return Double(random >> 11) * 0x1p-53 < ratio
    }
}
