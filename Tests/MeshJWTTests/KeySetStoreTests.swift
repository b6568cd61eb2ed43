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

    @Test func backoffIsCappedAndNeverOverflows() {
        #expect(RefreshSchedule.backoffMilliseconds(consecutiveFailures: 0, capMilliseconds: 300_000) == 0)
        #expect(RefreshSchedule.backoffMilliseconds(consecutiveFailures: 9, capMilliseconds: 300_000) == 256_000)
        #expect(RefreshSchedule.backoffMilliseconds(consecutiveFailures: 10, capMilliseconds: 300_000) == 300_000)
        #expect(RefreshSchedule.backoffMilliseconds(consecutiveFailures: 1_000, capMilliseconds: 300_000) == 300_000)
    }
}
