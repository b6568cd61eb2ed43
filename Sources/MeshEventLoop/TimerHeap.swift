/// A binary min-heap of deadlines for one event loop.
///
/// Entries are cancelled lazily: the loop hands a fired entry to its handler, which compares it against the
/// deadline it really wants and re-arms if that moved later. So extending an idle timeout per request costs
/// nothing here, and the heap's storage is reused (no allocation once warm).
public struct TimerHeap: Sendable {
    public struct Entry: Sendable {
        public var deadlineMs: Int64
        public var fd: Int32
        public var registrationID: UInt32

        public init(deadlineMs: Int64, fd: Int32, registrationID: UInt32) {
            self.deadlineMs = deadlineMs
            self.fd = fd
            self.registrationID = registrationID
        }
    }

    private var entries: [Entry] = []

    public init() { entries.reserveCapacity(1024) }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }
    public var nextDeadline: Int64? { entries.first?.deadlineMs }

    public mutating func push(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if entries[parent].deadlineMs <= entries[child].deadlineMs { break }
            entries.swapAt(parent, child)
            child = parent
        }
    }

    /// Removes and returns the earliest entry if it is due at `nowMs`.
    public mutating func popDue(nowMs: Int64) -> Entry? {
        guard let first = entries.first, first.deadlineMs <= nowMs else { return nil }
        let last = entries.removeLast()
        if entries.isEmpty { return first }
        entries[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            if left >= entries.count { break }
            let right = left + 1
            let smaller = right < entries.count && entries[right].deadlineMs < entries[left].deadlineMs ? right : left
            if entries[parent].deadlineMs <= entries[smaller].deadlineMs { break }
            entries.swapAt(parent, smaller)
            parent = smaller
        }
        return first
    }
}
