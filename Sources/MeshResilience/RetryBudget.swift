/// The retry budget of an upstream (SPEC §3): at most 20% of its in-flight requests may be retries, but
/// always at least 3. Pure arithmetic; `RetryBudgetTracker` keeps the counts.
public struct RetryBudget: Sendable, Equatable {
    /// Percentage of in-flight requests that may be retries.
    public let percent: Int
    /// Retries always allowed, however few requests are in flight.
    public let minimumRetries: Int

    /// Creates a budget (SPEC defaults: 20%, minimum 3).
    public init(percent: Int = 20, minimumRetries: Int = 3) {
        self.percent = max(0, percent)
        self.minimumRetries = max(0, minimumRetries)
    }

    /// The most retries that may be active with `inFlight` requests (retries included) in flight.
    public func limit(inFlight: Int) -> Int {
        max(minimumRetries, max(0, inFlight) * percent / 100)
    }

    /// True when one more retry fits: `activeRetries < limit(inFlight)`.
    ///
    /// `inFlight` counts every active request to the upstream, retries included; `activeRetries` the retries
    /// among them, before the one being asked for.
    public func tryAcquireRetry(inFlight: Int, activeRetries: Int) -> Bool {
        activeRetries < limit(inFlight: inFlight)
    }
}

/// Counts in-flight requests and active retries of one upstream and applies its `RetryBudget`.
///
/// A value type owned by one worker (the budget is per worker per upstream, so it needs no lock); each
/// `begin…` must be paired with its `end…`.
public struct RetryBudgetTracker: Sendable, Equatable {
    /// The budget applied.
    public let budget: RetryBudget
    /// Active requests (first attempts and retries).
    public private(set) var inFlight: Int = 0
    /// Active retries.
    public private(set) var activeRetries: Int = 0

    /// Creates an empty tracker.
    public init(budget: RetryBudget = RetryBudget()) {
        self.budget = budget
    }

    /// A first attempt starts.
    public mutating func beginRequest() {
        inFlight += 1
    }

    /// A first attempt ended.
    public mutating func endRequest() {
        inFlight = max(0, inFlight - 1)
    }

    /// Starts a retry if the budget allows it; returns false (and changes nothing) if not.
    public mutating func tryBeginRetry() -> Bool {
        guard budget.tryAcquireRetry(inFlight: inFlight, activeRetries: activeRetries) else { return false }
        inFlight += 1
        activeRetries += 1
        return true
    }

    /// A retry admitted by `tryBeginRetry` ended.
    public mutating func endRetry() {
        inFlight = max(0, inFlight - 1)
        activeRetries = max(0, activeRetries - 1)
    }
}
