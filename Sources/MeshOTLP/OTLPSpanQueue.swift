import Synchronization

/// A single-producer, single-consumer queue of finished requests waiting to become spans.
///
/// The producer (one worker thread) moves a record into a preallocated slot and publishes it with one release
/// store: no lock, no allocation (the record's strings are retained, not copied). When the queue is full the record
/// is refused at once and the drop counted (SPEC §5: the span queue "drops (and counts) rather than blocks"). The
/// consumer is the exporter thread. Positions are monotonically increasing slot counts; `position & mask` is the
/// slot index.
public final class OTLPSpanQueue: @unchecked Sendable {
    /// One queued request with the names of the config generation it was recorded under.
    public struct Entry {
        var record: RequestRecord
        var names: OTLPNames
    }

    /// Usable slots (a power of two).
    public let capacity: Int
    private let mask: Int
    private let slots: UnsafeMutablePointer<Entry>
    /// Entries ever published (written by the producer only).
    private let head = Atomic<Int>(0)
    /// Entries ever consumed (written by the consumer only).
    private let tail = Atomic<Int>(0)
    /// Entries refused because the queue was full or closed (written by the producer only).
    private let dropped = Atomic<UInt64>(0)
    /// Set by the exporter when it stops: later pushes are dropped instead of stranded.
    private let closed = Atomic<Bool>(false)

    /// A queue of at least `capacity` slots (rounded up to a power of two, minimum 16).
    public init(capacity: Int) {
        var size = 16
        while size < capacity { size <<= 1 }
        self.capacity = size
        mask = size - 1
        slots = .allocate(capacity: size)
    }

    deinit {
        var t = tail.load(ordering: .relaxed)
        let h = head.load(ordering: .acquiring)
        while t < h {
            (slots + (t & mask)).deinitialize(count: 1)
            t += 1
        }
        slots.deallocate()
    }

    // MARK: - Producer side (one thread)

    /// Queues `record` if there is room, else counts a drop and returns false. Never blocks, never allocates.
    @discardableResult
    public func push(_ record: borrowing RequestRecord, names: OTLPNames) -> Bool {
        let h = head.load(ordering: .relaxed)
        guard !closed.load(ordering: .relaxed), h - tail.load(ordering: .acquiring) < capacity else {
            dropped.store(dropped.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
            return false
        }
        (slots + (h & mask)).initialize(to: Entry(record: copy record, names: names))
        head.store(h + 1, ordering: .releasing)
        return true
    }

    /// Entries refused so far.
    public var droppedSpans: UInt64 { dropped.load(ordering: .relaxed) }

    // MARK: - Consumer side (the exporter thread)

    /// Entries published and not yet consumed.
    public var count: Int { head.load(ordering: .acquiring) - tail.load(ordering: .relaxed) }

    /// Moves up to `max` entries to `out`, oldest first; returns how many.
    public func pop(into out: inout [Entry], max: Int) -> Int {
        let t = tail.load(ordering: .relaxed)
        let n = min(head.load(ordering: .acquiring) - t, max)
        guard n > 0 else { return 0 }
        for i in 0..<n { out.append((slots + ((t + i) & mask)).move()) }
        tail.store(t + n, ordering: .releasing)
        return n
    }

    /// Refuses every later push (counted as dropped).
    public func close() { closed.store(true, ordering: .releasing) }
}
