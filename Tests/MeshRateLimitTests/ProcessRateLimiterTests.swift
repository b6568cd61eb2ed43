import Glibc
import MeshSync
import Testing

@testable import MeshRateLimit

@Suite struct ProcessRateLimiterTests {
    static let second: Int64 = 1_000_000_000

    @Test func eachKeyHasItsOwnBucket() {
        let limiter = ProcessRateLimiter(policy: GCRAPolicy(requestsPerSecond: 1, burst: 3), maxKeys: 100)
        let now = 10 * Self.second
        for key: UInt64 in [11, 22] {
            for _ in 0..<3 { #expect(limiter.check(digest: key, now: now).isAllowed) }
            #expect(!limiter.check(digest: key, now: now).isAllowed)
        }
        #expect(limiter.check(digest: 11, now: now + Self.second).isAllowed)
        #expect(limiter.count == 2)
    }

    /// N threads hammer one key at one instant: exactly `burst` admissions, never more.
    @Test(arguments: [1, 7, 1000])
    func concurrentWorkersNeverAdmitMoreThanTheBudget(burst: Int) {
        let limiter = ProcessRateLimiter(policy: GCRAPolicy(requestsPerSecond: 5, burst: burst), maxKeys: 64)
        let admitted = Locked(0)
        let threads = 8
        let perThread = 5000
        let now = 42 * Self.second
        let digest = RateLimitKey.digest(Array("203.0.113.9".utf8))
        runThreads(threads) {
            var mine = 0
            for _ in 0..<perThread where limiter.check(digest: digest, now: now).isAllowed { mine += 1 }
            admitted.withLock { $0 += mine }
        }
        #expect(admitted.withLock { $0 } == burst)
    }

    /// Same, with time moving: over [0, D] at most burst + rate · D.
    @Test func concurrentWorkersWithTimeMovingStayWithinTheRate() {
        let limiter = ProcessRateLimiter(policy: GCRAPolicy(requestsPerSecond: 1000, burst: 10), maxKeys: 64)
        let admitted = Locked(0)
        let start = 100 * Self.second
        runThreads(4) {
            var mine = 0
            // Each thread walks the same 0…999 ms timeline (1 µs steps), so the instants interleave.
            for step in 0..<20_000 where limiter.check(digest: 7, now: start + Int64(step) * 50_000).isAllowed {
                mine += 1
            }
            admitted.withLock { $0 += mine }
        }
        // 20 000 steps of 50 µs = 1 s (the last instant is 999.95 ms): at most 10 + 999 admissions.
        let total = admitted.withLock { $0 }
        #expect(total <= 10 + 1000)
        #expect(total >= 1000)
    }

    /// A flood of 10⁶ distinct keys: the count stays ≤ max_keys and the process does not grow.
    @Test func aMillionDistinctKeysStayWithinTheBound() {
        let limiter = ProcessRateLimiter(policy: GCRAPolicy(requestsPerSecond: 1, burst: 1), maxKeys: 10_000)
        #expect(limiter.capacity <= 10_000)
        #expect(limiter.footprintBytes == limiter.capacity * 32)
        let now = 5 * Self.second
        var key = [UInt8](repeating: 0, count: 8)
        // After the first 10⁵ keys every entry has been touched: from there on nothing may grow. Other tests
        // run meanwhile in this process (one CI run saw 28 MB of theirs over 900 000 keys), so growth is
        // measured over three windows of 300 000 keys and the quietest one counts: keeping those keys would
        // cost ≥ 9.6 MB (32 bytes each) in every window, noise has to hit all three to hide it.
        var growth: [Int] = []
        var windowStart = 0
        for i in 0..<1_000_000 {
            if i >= 100_000, (i - 100_000) % 300_000 == 0 {
                let resident = residentBytes()
                if i > 100_000 { growth.append(resident - windowStart) }
                windowStart = resident
            }
            withUnsafeBytes(of: UInt64(i)) { for j in 0..<8 { key[j] = $0[j] } }
            #expect(limiter.check(digest: RateLimitKey.digest(key), now: now).isAllowed)
        }
        growth.append(residentBytes() - windowStart)
        #expect(limiter.count <= limiter.capacity)
        #expect(limiter.count > limiter.capacity * 9 / 10)
        // Under AddressSanitizer resident memory says nothing about us (shadow memory, the allocator's
        // quarantine): the structural bound above is what holds there.
        guard getenv("ASAN_OPTIONS") == nil else { return }
        #expect(growth.count == 3)
        let quietest = growth.min() ?? .max
        #expect(quietest < 4 << 20, "resident memory grew by \(growth) bytes in the three windows")
    }

    /// A resident hot key survives a flood of one-off keys in its set only as long as it is used; keys whose
    /// bucket is full again are evicted first (nothing is lost by forgetting them).
    @Test func fullBucketsAreEvictedBeforeBusyOnes() {
        let limiter = ProcessRateLimiter(policy: GCRAPolicy(requestsPerSecond: 1, burst: 2), maxKeys: 8)
        #expect(limiter.setCount == 1)
        let now = 100 * Self.second
        // The busy key spends its burst: its bucket is not full until now + 2 s.
        #expect(limiter.check(digest: 1000, now: now).isAllowed)
        #expect(limiter.check(digest: 1000, now: now).isAllowed)
        // One-off keys spend one token each and are full again a second later.
        for key: UInt64 in 2000..<2007 { _ = limiter.check(digest: key, now: now) }
        // 1.5 s later the one-offs are full again, the busy key is not (and it is the least recently used):
        // 7 newcomers replace exactly the one-offs.
        for key: UInt64 in 3000..<3007 { _ = limiter.check(digest: key, now: now + 1_500_000_000) }
        // Still remembered: 1.5 tokens regained, so one more request and then a denial (a fresh bucket would
        // have admitted two).
        #expect(limiter.check(digest: 1000, now: now + 1_500_000_000).isAllowed)
        #expect(!limiter.check(digest: 1000, now: now + 1_500_000_000).isAllowed)
    }

    @Test func hugeHeaderValuesAreHashedNotStored() {
        let limiter = ProcessRateLimiter(policy: GCRAPolicy(requestsPerSecond: 1, burst: 1), maxKeys: 16)
        let huge = [UInt8](repeating: 0x61, count: 1 << 20)
        var other = huge
        other[(1 << 20) - 1] = 0x62
        #expect(RateLimitKey.digest(huge) != RateLimitKey.digest(other))
        #expect(limiter.check(digest: RateLimitKey.digest(huge), now: Self.second).isAllowed)
        #expect(!limiter.check(digest: RateLimitKey.digest(huge), now: Self.second).isAllowed)
        #expect(limiter.check(digest: RateLimitKey.digest(other), now: Self.second).isAllowed)
        #expect(limiter.footprintBytes == 16 * 32)
    }
}

/// Runs `body` on `count` threads at once and waits for all of them.
func runThreads(_ count: Int, _ body: @escaping @Sendable () -> Void) {
    final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    var threads: [pthread_t] = []
    for _ in 0..<count {
        var thread = pthread_t()
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let result = pthread_create(
            &thread, nil,
            { raw in
                let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
                box.body()
                return nil
            }, box)
        precondition(result == 0)
        threads.append(thread)
    }
    for thread in threads { pthread_join(thread, nil) }
}

/// The process's resident set size (/proc/self/statm, second field, in pages).
func residentBytes() -> Int {
    let fd = open("/proc/self/statm", O_RDONLY)
    guard fd >= 0 else { return 0 }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 256)
    let n = read(fd, &buffer, buffer.count)
    guard n > 0 else { return 0 }
    let fields = String(decoding: buffer[0..<n], as: UTF8.self).split(separator: " ")
    return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

@Suite struct RateLimitRegistryTests {
    @Test func anUnchangedLimitKeepsItsBucketsAcrossAReload() {
        let registry = RateLimitRegistry()
        let policy = GCRAPolicy(requestsPerSecond: 1, burst: 1)
        let first = registry.processLimiter(id: "route/edge/w", policy: policy, maxKeys: 10)
        #expect(first.check(digest: 5, now: 1_000_000_000).isAllowed)
        // Reload with the same limit: same object, the key is still out of tokens.
        let same = registry.processLimiter(id: "route/edge/w", policy: policy, maxKeys: 10)
        #expect(same === first)
        #expect(!same.check(digest: 5, now: 1_000_000_000).isAllowed)
        // A changed limit starts afresh.
        let changed = registry.processLimiter(id: "route/edge/w", policy: GCRAPolicy(requestsPerSecond: 2, burst: 1), maxKeys: 10)
        #expect(changed !== first)
        let cap = registry.concurrencyLimiter(upstream: "profile", mode: .fixed(2))
        #expect(cap.acquire())
        #expect(registry.concurrencyLimiter(upstream: "profile", mode: .fixed(2)).current == 1)
        registry.retain(limiters: [], upstreams: ["profile"])
        #expect(registry.processSnapshot().isEmpty)
        #expect(registry.concurrencySnapshot().map(\.inFlight) == [1])
    }
}
