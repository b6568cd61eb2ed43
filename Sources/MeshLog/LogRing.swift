import Synchronization

/// A single-producer, single-consumer byte ring holding complete log lines.
///
/// The producer (one worker thread) copies a whole line in and publishes it with one release store; the consumer
/// (the writer thread) sees only whole lines. A line that does not fit is refused at once: the producer never
/// waits, it counts the drop instead (SPEC §5: "Logging never blocks the event loop"). Positions are monotonically
/// increasing byte counts; `position & mask` is the offset in storage.
public final class LogRing: @unchecked Sendable {
    /// Usable bytes (a power of two).
    public let capacity: Int
    private let mask: Int
    private let storage: UnsafeMutablePointer<UInt8>
    /// Bytes ever published (written by the producer only).
    private let head = Atomic<Int>(0)
    /// Bytes ever consumed (written by the consumer only).
    private let tail = Atomic<Int>(0)
    /// Lines refused because the ring was full (written by the producer only).
    private let dropped = Atomic<UInt64>(0)

    /// A ring of at least `capacity` bytes (rounded up to a power of two, minimum 4 KiB).
    public init(capacity: Int) {
        var size = 4096
        while size < capacity { size <<= 1 }
        self.capacity = size
        mask = size - 1
        storage = .allocate(capacity: size)
    }

    deinit { storage.deallocate() }

    // MARK: - Producer side (one thread)

    /// Copies `line` in if it fits, else counts a drop and returns false. Never blocks, never allocates.
    @discardableResult
    public func push(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        let h = head.load(ordering: .relaxed)
        let free = capacity - (h - tail.load(ordering: .acquiring))
        guard line.count <= free, let source = line.baseAddress else {
            if line.count > 0 { countDrop() }
            return line.count == 0
        }
        let offset = h & mask
        let first = min(line.count, capacity - offset)
        (storage + offset).update(from: source, count: first)
        if first < line.count { storage.update(from: source + first, count: line.count - first) }
        head.store(h + line.count, ordering: .releasing)
        return true
    }

    /// Counts a line dropped without trying (e.g. longer than the writer accepts).
    public func countDrop() {
        dropped.store(dropped.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
    }

    // MARK: - Consumer side (the writer thread)

    /// Bytes published and not yet consumed.
    public var available: Int { head.load(ordering: .acquiring) - tail.load(ordering: .relaxed) }

    /// Copies up to `max` published bytes, ending at a line boundary, to `out`; returns how many were taken.
    /// A single line longer than `max` is never split: it is taken whole once `max` allows it.
    public func pop(into out: inout [UInt8], max: Int) -> Int {
        let t = tail.load(ordering: .relaxed)
        let n = min(head.load(ordering: .acquiring) - t, max)
        guard n > 0 else { return 0 }
        // Find the last newline within the first n bytes: only whole lines leave the ring.
        var take = n
        while take > 0, storage[(t + take - 1) & mask] != UInt8(ascii: "\n") { take -= 1 }
        guard take > 0 else { return 0 }
        let offset = t & mask
        let first = min(take, capacity - offset)
        out.append(contentsOf: UnsafeBufferPointer(start: storage + offset, count: first))
        if first < take { out.append(contentsOf: UnsafeBufferPointer(start: storage, count: take - first)) }
        tail.store(t + take, ordering: .releasing)
        return take
    }

    /// Lines refused so far.
    public var droppedLines: UInt64 { dropped.load(ordering: .relaxed) }
}
