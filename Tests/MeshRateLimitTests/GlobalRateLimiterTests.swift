import Testing

@testable import MeshRateLimit

@Suite struct GlobalRateLimiterTests {
    static let ms: Int64 = 1_000_000
    let key = Array("alice".utf8)

    func limiter(batch: Int = 4, allowOnError: Bool = true) -> GlobalRateLimiter {
        let settings = GlobalLimitSettings(
            policy: GCRAPolicy(requestsPerSecond: 10, burst: 20), name: "writes", allowOnError: allowOnError,
            maxKeys: 64, batch: batch)
        return GlobalRateLimiter(settings: settings)
    }

    func check(_ limiter: GlobalRateLimiter, at now: Int64) -> GlobalRateLimiter.Check {
        key.withUnsafeBytes { limiter.check(digest: RateLimitKey.digest(key), keyBytes: $0, now: now) }
    }

    /// Redis's reply: granted, µs, remaining.
    func reply(_ granted: Int64, _ us: Int64, _ remaining: Int64) -> RESPValue {
        .array([.integer(granted), .integer(us), .integer(remaining)])
    }

    @Test func theFirstRequestWaitsForAReservationThenTheBatchIsSpentLocally() throws {
        let limiter = limiter()
        let first = check(limiter, at: 1000 * Self.ms)
        #expect(first.verdict == .wait)
        let fetch = try #require(first.fetch)
        let text = String(decoding: fetch.command, as: UTF8.self)
        #expect(text.hasPrefix("*7\r\n$4\r\nEVAL\r\n"))
        #expect(text.contains("$26\r\nmeshgate:rl:writes:v:alice\r\n"))
        #expect(text.hasSuffix("$6\r\n100000\r\n$7\r\n2000000\r\n$1\r\n4\r\n"))
        // A second request while the reservation is out waits too, without a second command.
        let second = check(limiter, at: 1001 * Self.ms)
        #expect(second.verdict == .wait && second.fetch == nil)
        limiter.completed(fetch.ticket, reply: reply(4, 400_000, 16), now: 1002 * Self.ms)
        // Four local admissions; the one that leaves 2 (= batch / 2) asks for the next batch in the background.
        var fetches: [GlobalRateLimiter.Fetch] = []
        for i in 0..<4 {
            let c = check(limiter, at: (1003 + Int64(i)) * Self.ms)
            guard case .allowed(let decision) = c.verdict else {
                Issue.record("expected allowed, got \(c.verdict)")
                return
            }
            #expect(decision.remaining == 3 - i + 16)
            if let fetch = c.fetch { fetches.append(fetch) }
        }
        #expect(fetches.count == 1)
        // Out of tokens while the refill is out: wait.
        #expect(check(limiter, at: 1008 * Self.ms).verdict == .wait)
        limiter.completed(fetches[0].ticket, reply: reply(4, 800_000, 12), now: 1009 * Self.ms)
        #expect(check(limiter, at: 1010 * Self.ms).verdict.isAllowed)
    }

    @Test func aRefusalDeniesLocallyUntilRetryAfter() throws {
        let limiter = limiter()
        let fetch = try #require(check(limiter, at: 5000 * Self.ms).fetch)
        limiter.completed(fetch.ticket, reply: reply(0, 250_000, 0), now: 5000 * Self.ms)
        let denied = check(limiter, at: 5100 * Self.ms)
        #expect(denied.fetch == nil)
        guard case .denied(let decision) = denied.verdict else {
            Issue.record("expected denied, got \(denied.verdict)")
            return
        }
        #expect(decision.retryAfterSeconds == 1)
        #expect(decision == .denied(retryAfterNs: 150 * Self.ms, resetNs: 2050 * Self.ms))
        // After the wait, a new reservation is tried.
        let again = check(limiter, at: 5251 * Self.ms)
        #expect(again.verdict == .wait && again.fetch != nil)
    }

    @Test(arguments: [true, false])
    func aFailedStoreFollowsOnError(allow: Bool) throws {
        let limiter = limiter(allowOnError: allow)
        let fetch = try #require(check(limiter, at: 100 * Self.ms).fetch)
        #expect(fetch.ticket.digest == RateLimitKey.digest(key))
        limiter.failed(fetch.ticket, now: 150 * Self.ms)
        // The parked request, checked again, and every request for a second: on_error, no new command.
        for t: Int64 in [150, 600, 1149] {
            let c = check(limiter, at: t * Self.ms)
            #expect(c.verdict == .storeError(allowed: allow) && c.fetch == nil)
        }
        // After the hold, reservations are tried again; storeUp() ends the hold at once.
        #expect(check(limiter, at: 1151 * Self.ms).fetch != nil)
        limiter.storeDown(now: 2000 * Self.ms)
        #expect(check(limiter, at: 2001 * Self.ms).verdict == .storeError(allowed: allow))
        limiter.storeUp()
        #expect(check(limiter, at: 2002 * Self.ms).verdict == .wait)
    }

    @Test func garbageRepliesCountAsFailures() throws {
        let limiter = limiter()
        let fetch = try #require(check(limiter, at: 100 * Self.ms).fetch)
        limiter.completed(fetch.ticket, reply: .error("NOSCRIPT"), now: 101 * Self.ms)
        #expect(check(limiter, at: 102 * Self.ms).verdict == .storeError(allowed: true))
    }

    @Test func unusedReservationsExpireWithTheirLease() throws {
        let limiter = limiter()
        let fetch = try #require(check(limiter, at: 0 + Self.ms).fetch)
        limiter.completed(fetch.ticket, reply: reply(4, 400_000, 0), now: Self.ms)
        // 1 s lease: at 1.002 s the four tokens are gone, a new reservation is needed.
        let late = check(limiter, at: 1002 * Self.ms)
        #expect(late.verdict == .wait && late.fetch != nil)
    }

    @Test func aReplyForAnEvictedKeyIsIgnored() throws {
        let settings = GlobalLimitSettings(
            policy: GCRAPolicy(requestsPerSecond: 10, burst: 20), name: "w", allowOnError: true, maxKeys: 1, batch: 4)
        let limiter = GlobalRateLimiter(settings: settings)
        let a = Array("a".utf8)
        let b = Array("b".utf8)
        let fetchA = try #require(a.withUnsafeBytes { limiter.check(digest: 1, keyBytes: $0, now: 10) }.fetch)
        _ = b.withUnsafeBytes { limiter.check(digest: 2, keyBytes: $0, now: 11) }  // evicts a (1 key)
        limiter.completed(fetchA.ticket, reply: reply(4, 1, 0), now: 12)
        #expect(limiter.keyCount == 1)
        // b did not get a's tokens.
        #expect(b.withUnsafeBytes { limiter.check(digest: 2, keyBytes: $0, now: 13) }.verdict == .wait)
    }

    @Test func defaultBatchIsATenthOfASecondCappedByAnEighthOfTheBurst() {
        #expect(GlobalLimitSettings.defaultBatch(for: GCRAPolicy(requestsPerSecond: 100, burst: 200)) == 10)
        #expect(GlobalLimitSettings.defaultBatch(for: GCRAPolicy(requestsPerSecond: 10_000, burst: 80)) == 10)
        #expect(GlobalLimitSettings.defaultBatch(for: GCRAPolicy(requestsPerSecond: 1, burst: 5)) == 1)
    }
}

extension GlobalRateLimiter.Verdict {
    var isAllowed: Bool {
        if case .allowed = self { return true }
        return false
    }
}

extension GlobalRateLimiterTests {
    /// A flood of distinct keys keeps the per-worker table within max_keys.
    @Test func aFloodOfKeysStaysWithinMaxKeys() {
        let limiter = limiter()
        var bytes = [UInt8](repeating: 0, count: 8)
        for i in 0..<100_000 {
            withUnsafeBytes(of: UInt64(i)) { for j in 0..<8 { bytes[j] = $0[j] } }
            let check = bytes.withUnsafeBytes {
                limiter.check(digest: RateLimitKey.digest(bytes), keyBytes: $0, now: Int64(i) * Self.ms)
            }
            #expect(check.verdict == .wait)
        }
        #expect(limiter.keyCount <= 64)
    }
}
