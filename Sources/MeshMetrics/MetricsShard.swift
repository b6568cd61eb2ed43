import Synchronization

/// The per-worker recording surface: plain words, one writer (the owning worker), read by the scrape thread.
///
/// Every word is a `Synchronization.Atomic<UInt64>` used with relaxed ordering. Because exactly one thread writes
/// a shard, an increment is a relaxed load plus a relaxed store (plain `mov`s on x86-64 and arm64, no locked
/// read-modify-write and no cache-line ping-pong between workers); the scrape thread's relaxed loads make the
/// cross-thread reads data-race-free. A scrape may see a slightly stale value, never a torn one. Recording
/// allocates nothing and takes no lock.
///
/// - Important: call the recording methods only from the shard's own worker thread.
public final class MetricsShard: @unchecked Sendable {
    /// Slots per status-code table: distinct status codes kept per `StatusCounterHandle` series.
    public static let statusSlots = 32

    let words: UnsafeMutablePointer<Atomic<UInt64>>
    let wordCount: Int
    let bounds: UnsafePointer<Double>
    let droppedWord: Int
    /// Keeps `bounds` alive as long as the shard.
    let boundsOwner: AnyObject

    init(wordCount: Int, bounds: UnsafePointer<Double>, owner: AnyObject) {
        boundsOwner = owner
        // One extra word counts status samples dropped because a table was full.
        self.wordCount = wordCount + 1
        droppedWord = wordCount
        words = .allocate(capacity: wordCount + 1)
        for i in 0...wordCount { (words + i).initialize(to: Atomic(0)) }
        self.bounds = bounds
    }

    deinit {
        words.deinitialize(count: wordCount)
        words.deallocate()
    }

    @inline(__always)
    func bump(_ index: Int, _ amount: UInt64) {
        let word = words + index
        word.pointee.store(word.pointee.load(ordering: .relaxed) &+ amount, ordering: .relaxed)
    }

    @inline(__always)
    func load(_ index: Int) -> UInt64 {
        words[index].load(ordering: .relaxed)
    }

    /// Adds `amount` to a counter.
    @inline(__always)
    public func add(_ handle: CounterHandle, _ amount: UInt64 = 1) {
        bump(Int(handle.word), amount)
    }

    /// Adds `amount` to the series of `handle` with status label `status` (an HTTP status, 0…999).
    ///
    /// The first use of a status in a series claims one of `statusSlots` slots; after that it is a scan of at
    /// most that many words. If a series already holds `statusSlots` distinct codes the sample is dropped and
    /// counted in `droppedSamples` (no allocation, ever).
    @inline(__always)
    public func add(_ handle: StatusCounterHandle, status: Int, _ amount: UInt64 = 1) {
        guard (0...999).contains(status) else {
            bump(droppedWord, amount)
            return
        }
        // Keys are status + 1 so that 0 means "free".
        let key = UInt64(status) &+ 1
        let base = Int(handle.word)
        for slot in 0..<Self.statusSlots {
            let keyWord = base + 2 * slot
            // Only this thread writes keys, so its own read needs no ordering.
            let current = words[keyWord].load(ordering: .relaxed)
            if current == key {
                bump(keyWord + 1, amount)
                return
            }
            if current == 0 {
                // Count first, then publish the key (release), so a scrape never sees the key without its count.
                bump(keyWord + 1, amount)
                words[keyWord].store(key, ordering: .releasing)
                return
            }
        }
        bump(droppedWord, amount)
    }

    /// Adds a signed delta to this worker's share of a gauge (e.g. +1 / −1 for active connections).
    @inline(__always)
    public func add(_ handle: GaugeHandle, _ delta: Int64) {
        bump(Int(handle.word), UInt64(bitPattern: delta))
    }

    /// Records one observation (seconds for durations) in a histogram: the first bucket whose bound is ≥ `value`
    /// (Prometheus `le` semantics: a value equal to a bound goes in that bucket), else `+Inf`.
    @inline(__always)
    public func observe(_ handle: HistogramHandle, _ value: Double) {
        let count = Int(handle.boundsCount)
        let bounds = self.bounds + Int(handle.boundsStart)
        var bucket = 0
        while bucket < count, !(value <= bounds[bucket]) { bucket += 1 }
        let base = Int(handle.word)
        bump(base + bucket, 1)
        let sumWord = base + count + 1
        let sum = Double(bitPattern: load(sumWord)) + value
        words[sumWord].store(sum.bitPattern, ordering: .relaxed)
    }

    /// Samples dropped by this shard (status outside 0…999, or a full status table).
    public var droppedSamples: UInt64 {
        load(droppedWord)
    }
}
