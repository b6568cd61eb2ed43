import MeshResilience

extension RetryBudgetTracker {
    /// Whether a retry would fit the budget now, without taking it.
    var retryAvailable: Bool { budget.tryAcquireRetry(inFlight: inFlight, activeRetries: activeRetries) }
}
