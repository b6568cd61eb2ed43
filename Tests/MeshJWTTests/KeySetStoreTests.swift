import MeshJWT
import Testing

@Suite struct KeySetStoreTests {
    @Test func replaceBumpsGenerationAndRecordsAge() {
        let store = KeySetStore()
        #expect(store.current().keys == nil)
        #expect(store.age(now: 50) == nil)
        let first = store.replace(JWKSet(keys: []), now: 100)
        let second = store.replace(JWKSet(keys: []), now: 160)
        #expect(second == first + 1)
        #expect(store.current().generation == second)
        #expect(store.age(now: 200) == 40)
    }

    @Test func failuresKeepLastGoodSetAndBackOff() {
        let store = KeySetStore(initial: JWKSet(keys: []), now: 10)
        let generation = store.current().generation
        #expect(store.recordFailure(capMilliseconds: 5_000) == 1_000)
        #expect(store.recordFailure(capMilliseconds: 5_000) == 2_000)
        #expect(store.recordFailure(capMilliseconds: 5_000) == 4_000)
        #expect(store.recordFailure(capMilliseconds: 5_000) == 5_000)
        #expect(store.current().keys != nil && store.current().generation == generation)
        #expect(store.snapshot().consecutiveFailures == 4)
        store.replace(JWKSet(keys: []), now: 20)
        #expect(store.snapshot().consecutiveFailures == 0)
    }

    @Test(
        arguments: [
            (Int64?.none, Int64(0), true), (100, 129, false), (100, 130, true), (100, 99, true),
        ] as [(Int64?, Int64, Bool)])
    func unknownKidRefetchAtMostEvery30s(last: Int64?, now: Int64, allowed: Bool) {
        #expect(RefreshSchedule.refetchAllowed(lastRefetch: last, now: now) == allowed)
    }

    @Test func claimIsSharedAcrossCallers() {
        let store = KeySetStore()
        #expect(store.claimUnknownKidRefetch(now: 1000))
        #expect(!store.claimUnknownKidRefetch(now: 1010))
        #expect(!store.claimUnknownKidRefetch(now: 1029))
        #expect(store.claimUnknownKidRefetch(now: 1030))
    }

    // Regression: issue 10 — an unknown kid was answered 401 while its refetch ran: callers must learn
    // whether to wait for a refetch in flight.
    @Test func unknownKidWaitsForTheRefetchInFlight() {
        let store = KeySetStore(initial: JWKSet(keys: []), now: 0)
        let seen = store.current().generation
        #expect(store.unknownKid(now: 100, seenGeneration: seen) == .refetch)
        #expect(store.unknownKid(now: 101, seenGeneration: seen) == .wait)
        #expect(store.snapshot().refetchPending)
        let installed = store.replace(JWKSet(keys: []), now: 102)
        // Keys arrived after the caller read them: verify again at once rather than wait.
        #expect(store.unknownKid(now: 102, seenGeneration: seen) == .retryNow)
        // Judged on the new set and still unknown: the 30 s slot is used up, so no wait.
        #expect(store.unknownKid(now: 103, seenGeneration: installed) == .deny)
        #expect(store.unknownKid(now: 130, seenGeneration: installed) == .refetch)
    }

    @Test func aFailedRefetchEndsTheWait() {
        let store = KeySetStore(initial: JWKSet(keys: []), now: 0)
        let seen = store.current().generation
        #expect(store.unknownKid(now: 100, seenGeneration: seen) == .refetch)
        _ = store.recordFailure(capMilliseconds: 1_000)
        #expect(!store.snapshot().refetchPending)
        #expect(store.unknownKid(now: 101, seenGeneration: seen) == .deny)
    }

    @Test func aRefetchThatNeverReportsStopsMakingRequestsWaitAfter30s() {
        let store = KeySetStore(initial: JWKSet(keys: []), now: 0)
        let seen = store.current().generation
        #expect(store.unknownKid(now: 100, seenGeneration: seen) == .refetch)
        #expect(store.unknownKid(now: 129, seenGeneration: seen) == .wait)
        #expect(store.unknownKid(now: 130, seenGeneration: seen) == .refetch)
    }

    @Test func providersWithoutAURLNeverWait() {
        let store = KeySetStore(initial: JWKSet(keys: []), now: 0, refetchable: false)
        let seen = store.current().generation
        #expect(store.unknownKid(now: 100, seenGeneration: seen) == .deny)
        #expect(!store.claimUnknownKidRefetch(now: 100))
        #expect(!store.snapshot().refetchPending)
    }

    @Test func backoffIsCappedAndNeverOverflows() {
        #expect(RefreshSchedule.backoffMilliseconds(consecutiveFailures: 0, capMilliseconds: 300_000) == 0)
        #expect(RefreshSchedule.backoffMilliseconds(consecutiveFailures: 9, capMilliseconds: 300_000) == 256_000)
        #expect(RefreshSchedule.backoffMilliseconds(consecutiveFailures: 10, capMilliseconds: 300_000) == 300_000)
        #expect(RefreshSchedule.backoffMilliseconds(consecutiveFailures: 1_000, capMilliseconds: 300_000) == 300_000)
    }
}
