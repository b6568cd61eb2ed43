/// Deadlines are loop milliseconds (`Int64`), `.max` meaning "never"; every timer of the gateway is armed from
/// one of these sums.
extension Int64 {
    /// `now + ms`, saturating at `.max` ("never") instead of trapping on a huge configured duration.
    @inline(__always)
    public static func deadline(_ now: Int64, plusMs ms: Int) -> Int64 {
        let (sum, overflow) = now.addingReportingOverflow(Int64(clamping: ms))
        return overflow ? .max : sum
    }
}
