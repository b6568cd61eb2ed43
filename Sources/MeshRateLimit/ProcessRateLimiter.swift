import MeshSync
import Synchronization

/// `scope: "process"`: one GCRA bucket per key, shared exactly by every worker thread of the process.
///
/// Layout: a set-associative table of `capacity` entries (sets of up to 8 ways, like a CPU cache), allocated
/// once; a key (its 64-bit digest, see `RateLimitKey`) lives in the set its digest selects. Each entry is four
/// words: tag (the digest, 0 = empty), TAT, last-use stamp, and padding so two entries share a cache line and
/// none straddles one.
///
/// - Hot path (key present): scan ≤ 8 tags, then one compare-and-swap on the key's TAT. No lock, no
///   allocation. Admissions for a resident key are linearizable, so N threads at one `now` never admit more
///   than the policy allows (the tests hammer one key from 8 threads).
/// - Miss: the set's stripe lock (one of 64 pthread mutexes) is held while the set is scanned again and a
///   victim is replaced: an empty way first, then a way whose bucket is already full again (TAT ≤ now, so
///   forgetting it loses nothing), else the least recently used way of the set. Memory never grows: a flood
///   of distinct keys only churns the table.
/// - Approximation: LRU is per set, not global (an evicted key can be more recent than a key of another
///   set). An evicted key comes back with a full bucket. A request racing with the eviction of its key may
///   be charged to the key that replaces it (that key loses one token; no key is ever over-admitted).
public final class ProcessRateLimiter: @unchecked Sendable {
    public let policy: GCRAPolicy
    /// Keys the table can hold (≤ the configured `max_keys`).
    public let capacity: Int
    /// The `maxKeys` it was created with.
    public let requestedMaxKeys: Int
    let ways: Int
    let setCount: Int
    private let words: UnsafeMutablePointer<Atomic<UInt64>>
    /// Stripe locks. Each guards an insertion count rather than nothing: ThreadSanitizer placed the guarded
    /// access of a zero-sized value at the lock object's first word and reported it racing with reads of that
    /// word by other threads (a false report that failed a CI run once).
    private let stripes: [Locked<Int>]
    private let occupied = Atomic<Int>(0)

    static let wordsPerEntry = 4
    static let stripeCount = 64

    /// - Parameter maxKeys: the bound on distinct keys kept (≥ 1); the table holds `capacity ≤ maxKeys`.
    public init(policy: GCRAPolicy, maxKeys: Int) {
        precondition(maxKeys >= 1, "max_keys must be positive")
        self.policy = policy
        requestedMaxKeys = maxKeys
        ways = min(8, maxKeys)
        setCount = maxKeys / ways
        capacity = setCount * ways
        let count = capacity * Self.wordsPerEntry
        words = .allocate(capacity: count)
        for i in 0..<count { (words + i).initialize(to: Atomic(0)) }
        stripes = (0..<min(Self.stripeCount, setCount)).map { _ in Locked(0) }
    }

    deinit {
        words.deinitialize(count: capacity * Self.wordsPerEntry)
        words.deallocate()
    }

    /// Bytes held by the table, fixed at init (for the admin view and the memory-bound test).
    public var footprintBytes: Int { capacity * Self.wordsPerEntry * 8 }

    /// Keys currently held (≤ `capacity`).
    public var count: Int { occupied.load(ordering: .relaxed) }

    /// Judges one request for the key with digest `digest` at `now` (monotonic ns) and records it if admitted.
    /// Safe from any thread.
    public func check(digest: UInt64, now: Int64) -> RateLimitDecision {
        let tag = digest < 2 ? digest &+ 2 : digest  // 0 means empty, 1 is kept free
        let set = Int(tag % UInt64(setCount))
        while true {
            let slot = find(tag, set: set) ?? insert(tag, set: set, now: now)
            if let decision = spend(slot, tag: tag, now: now) { return decision }
            // The key was evicted between the lookup and the update: look it up again.
        }
    }

    // MARK: - Entries

    @inline(__always)
    private func word(_ slot: Int, _ field: Int) -> UnsafeMutablePointer<Atomic<UInt64>> {
        words + slot * Self.wordsPerEntry + field
    }

    @inline(__always)
    private func find(_ tag: UInt64, set: Int) -> Int? {
        let first = set * ways
        for slot in first..<(first + ways) where word(slot, 0).pointee.load(ordering: .acquiring) == tag {
            return slot
        }
        return nil
    }

    /// The CAS loop on the TAT; nil when the slot no longer holds `tag`.
    @inline(__always)
    private func spend(_ slot: Int, tag: UInt64, now: Int64) -> RateLimitDecision? {
        let tat = word(slot, 1)
        word(slot, 2).pointee.store(UInt64(bitPattern: now), ordering: .relaxed)
        var current = tat.pointee.load(ordering: .acquiring)
        while true {
            let (decision, newTat) = policy.evaluate(tat: Int64(bitPattern: current), now: now)
            guard let newTat else { return decision }
            let (exchanged, original) = tat.pointee.compareExchange(
                expected: current, desired: UInt64(bitPattern: newTat), ordering: .acquiringAndReleasing)
            if exchanged { return decision }
            if word(slot, 0).pointee.load(ordering: .acquiring) != tag { return nil }
            current = original
        }
    }

    /// Installs `tag` in its set under the set's stripe lock (or finds it there, installed meanwhile).
    private func insert(_ tag: UInt64, set: Int, now: Int64) -> Int {
        stripes[set % stripes.count].withLock { insertions in
            if let slot = find(tag, set: set) { return slot }
            insertions += 1
            let victim = self.victim(set: set, now: now)
            let wasEmpty = word(victim, 0).pointee.load(ordering: .relaxed) == 0
            // Unpublish first, so no reader matches the old key while its bucket is reset for the new one.
            word(victim, 0).pointee.store(0, ordering: .releasing)
            word(victim, 1).pointee.store(0, ordering: .releasing)
            word(victim, 2).pointee.store(UInt64(bitPattern: now), ordering: .relaxed)
            word(victim, 0).pointee.store(tag, ordering: .releasing)
            if wasEmpty { occupied.add(1, ordering: .relaxed) }
            return victim
        }
    }

    private func victim(set: Int, now: Int64) -> Int {
        let first = set * ways
        var oldest = first
        var oldestStamp = UInt64.max
        for slot in first..<(first + ways) {
            if word(slot, 0).pointee.load(ordering: .relaxed) == 0 { return slot }
            if Int64(bitPattern: word(slot, 1).pointee.load(ordering: .relaxed)) <= now { return slot }
            let stamp = word(slot, 2).pointee.load(ordering: .relaxed)
            if stamp < oldestStamp {
                oldestStamp = stamp
                oldest = slot
            }
        }
        return oldest
    }
}
