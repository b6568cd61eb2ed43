import Testing

@testable import MeshRateLimit

@Suite struct GCRATests {
    static let second: Int64 = 1_000_000_000
    let policy = GCRAPolicy(requestsPerSecond: 10, burst: 5)  // T = 100 ms, τ = 500 ms

    @Test func aFullBucketAdmitsTheBurstThenDenies() {
        var tat: Int64 = 0
        let now = 1000 * Self.second
        for expected in (0..<5).reversed() {
            let (decision, newTat) = policy.evaluate(tat: tat, now: now)
            #expect(decision == .allowed(remaining: expected, resetNs: Int64(5 - expected) * 100_000_000))
            tat = newTat!
        }
        let (denied, none) = policy.evaluate(tat: tat, now: now)
        #expect(none == nil)
        #expect(denied == .denied(retryAfterNs: 100_000_000, resetNs: 500_000_000))
        #expect(denied.retryAfterSeconds == 1)
        #expect(denied.resetSeconds == 1)
    }

    @Test func tokensComeBackAtTheRate() {
        var tat: Int64 = 0
        let start = 50 * Self.second
        for _ in 0..<5 { tat = policy.evaluate(tat: tat, now: start).newTat! }
        // 99 ms later: still nothing; 100 ms later: exactly one.
        #expect(policy.evaluate(tat: tat, now: start + 99_999_999).newTat == nil)
        let one = policy.evaluate(tat: tat, now: start + 100_000_000)
        #expect(one.decision == .allowed(remaining: 0, resetNs: 500_000_000))
        tat = one.newTat!
        #expect(policy.evaluate(tat: tat, now: start + 100_000_000).newTat == nil)
        // Idle long enough: a full burst again, never more (the bucket does not overfill).
        let later = start + 10 * Self.second
        var admitted = 0
        while let next = policy.evaluate(tat: tat, now: later).newTat {
            tat = next
            admitted += 1
        }
        #expect(admitted == 5)
    }

    @Test func deniedRequestsDoNotDeepenTheDebt() {
        var tat: Int64 = 0
        let now = 7 * Self.second
        for _ in 0..<5 { tat = policy.evaluate(tat: tat, now: now).newTat! }
        for _ in 0..<1000 { #expect(policy.evaluate(tat: tat, now: now).newTat == nil) }
        #expect(policy.evaluate(tat: tat, now: now + 100_000_000).decision.isAllowed)
    }

    @Test func steadyRateOverALongRunIsExact() {
        // 10 rps for 60 s, offered 100 rps: admitted = burst + rate · 60 (the first instant is the full burst).
        var tat: Int64 = 0
        var admitted = 0
        let start = 1 * Self.second
        for tick in 0..<6000 {
            let now = start + Int64(tick) * 10_000_000
            if let next = policy.evaluate(tat: tat, now: now).newTat {
                tat = next
                admitted += 1
            }
        }
        #expect(admitted == 5 + 599)
    }

    @Test func windowAndFractionalRates() {
        #expect(GCRAPolicy(requestsPerSecond: 100, burst: 200).windowSeconds == 2)
        #expect(GCRAPolicy(requestsPerSecond: 0.5, burst: 1).emissionIntervalNs == 2 * Self.second)
        #expect(GCRAPolicy(requestsPerSecond: 0.5, burst: 3).windowSeconds == 6)
        #expect(GCRAPolicy(requestsPerSecond: 1e12, burst: 1).emissionIntervalNs == 1)
    }

    @Test func headersFollowTheDraft() {
        let headers = RateLimitHeaders(name: "profile-writes", policy: GCRAPolicy(requestsPerSecond: 2, burst: 20))
        #expect(String(decoding: headers.policyValue, as: UTF8.self) == "\"profile-writes\";q=20;w=10")
        var out: [UInt8] = []
        headers.appendRateLimit(.allowed(remaining: 7, resetNs: 3_500_000_000), to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "\"profile-writes\";r=7;t=4")
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: headers.maxRateLimitBytes, alignment: 1)
        defer { buffer.deallocate() }
        let n = headers.writeRateLimit(.denied(retryAfterNs: 1, resetNs: 10_000_000_000), into: buffer)
        #expect(String(decoding: buffer[0..<n], as: UTF8.self) == "\"profile-writes\";r=0;t=10")
        let odd = RateLimitHeaders(name: "a\"b\\c\u{e9}", policy: GCRAPolicy(requestsPerSecond: 1, burst: 1))
        #expect(String(decoding: odd.policyValue, as: UTF8.self) == "\"a\\\"b\\\\c__\";q=1;w=1")
    }
}
