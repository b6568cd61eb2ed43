import Testing

@testable import MeshResilience

@Suite struct RetryBudgetTests {
    @Test(arguments: [(0, 3), (1, 3), (15, 3), (19, 3), (20, 4), (24, 4), (25, 5), (100, 20), (1_000, 200)])
    func limitIsTwentyPercentWithAFloorOfThree(inFlight: Int, limit: Int) {
        #expect(RetryBudget().limit(inFlight: inFlight) == limit)
    }

    @Test func acquireIsStrictlyBelowTheLimit() {
        let budget = RetryBudget()
        #expect(budget.tryAcquireRetry(inFlight: 10, activeRetries: 2))
        #expect(!budget.tryAcquireRetry(inFlight: 10, activeRetries: 3))
        #expect(budget.tryAcquireRetry(inFlight: 50, activeRetries: 9))
        #expect(!budget.tryAcquireRetry(inFlight: 50, activeRetries: 10))
        #expect(!RetryBudget(percent: 0, minimumRetries: 0).tryAcquireRetry(inFlight: 100, activeRetries: 0))
    }

    @Test func trackerCountsRetriesAsInFlight() {
        var tracker = RetryBudgetTracker()
        for _ in 0..<5 { tracker.beginRequest() }
        // Floor of 3 applies: three retries, then refused.
        let first = (0..<4).map { _ in tracker.tryBeginRetry() }
        #expect(first == [true, true, true, false])
        #expect(tracker.inFlight == 8 && tracker.activeRetries == 3)
        tracker.endRetry()
        let afterEnd = tracker.tryBeginRetry()
        #expect(afterEnd)
        // With 30 more first attempts in flight the limit becomes (38 + retries) * 20% = 7 or 8.
        for _ in 0..<30 { tracker.beginRequest() }
        let more = (0..<6).map { _ in tracker.tryBeginRetry() }
        // 38 in flight → limit 7: retries 4…7 admitted; at 42 in flight limit is 8: one more; then refused.
        #expect(more == [true, true, true, true, true, false])
        #expect(tracker.activeRetries == 8 && tracker.inFlight == 43)
    }

    @Test func trackerNeverGoesNegative() {
        var tracker = RetryBudgetTracker()
        tracker.endRequest()
        tracker.endRetry()
        #expect(tracker.inFlight == 0 && tracker.activeRetries == 0)
    }
}
