/// The HPACK dynamic table (RFC 7541 §2.3.2, §4): newest entry first, FIFO eviction by size.
///
/// Entries live back to back in one byte array; eviction advances a start offset and the dead prefix is removed
/// (one memmove, no allocation) only when it grows past the table's maximum size, so inserting never allocates once
/// the buffers have reached their working size.
public struct HPACKDynamicTable: Sendable {
    /// Per-entry overhead counted by RFC 7541 §4.1.
    public static let entryOverhead = 32

    private struct Entry: Sendable {
        var start: Int
        var nameLength: Int
        var valueLength: Int
    }

    private var storage: [UInt8] = []
    private var entries: [Entry] = []
    /// Index in `entries` of the oldest live entry.
    private var first = 0
    /// Sum of live entries' sizes (RFC 7541 §4.1).
    public private(set) var size = 0
    /// The current maximum size (changed by a dynamic table size update).
    public private(set) var maxSize: Int

    /// Creates an empty table of `maxSize` octets.
    public init(maxSize: Int) { self.maxSize = maxSize }

    /// Number of live entries.
    public var count: Int { entries.count - first }

    /// Name and value ranges in `bytes` of entry `index` (1 = newest), or nil when out of range.
    public func entry(_ index: Int) -> (name: Range<Int>, value: Range<Int>)? {
        guard index >= 1 && index <= count else { return nil }
        let e = entries[entries.count - index]
        return (e.start..<(e.start + e.nameLength), (e.start + e.nameLength)..<(e.start + e.nameLength + e.valueLength))
    }

    /// The bytes the ranges of `entry(_:)` point into.
    public var bytes: [UInt8] { storage }

    /// The entries' storage, borrowed for `body`.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R { storage.withUnsafeBytes(body) }

    /// Sets a new maximum (RFC 7541 §4.3), evicting until the entries fit.
    public mutating func resize(_ newMax: Int) {
        maxSize = newMax
        evict(toFit: 0)
    }

    /// Adds an entry (RFC 7541 §4.4): evicts until it fits; one larger than the whole table empties the table and
    /// is not added (not an error).
    public mutating func insert(name: some Collection<UInt8>, value: some Collection<UInt8>) {
        let entrySize = name.count + value.count + Self.entryOverhead
        evict(toFit: entrySize)
        guard entrySize <= maxSize else { return }
        compactIfNeeded()
        let start = storage.count
        storage.append(contentsOf: name)
        storage.append(contentsOf: value)
        entries.append(Entry(start: start, nameLength: name.count, valueLength: value.count))
        size += entrySize
    }

    private mutating func evict(toFit incoming: Int) {
        while first < entries.count && size + incoming > maxSize {
            let e = entries[first]
            size -= e.nameLength + e.valueLength + Self.entryOverhead
            first += 1
        }
        if first == entries.count {
            storage.removeAll(keepingCapacity: true)
            entries.removeAll(keepingCapacity: true)
            first = 0
        }
    }

    /// Drops evicted bytes and entries once they outweigh the live ones, keeping memory within about twice the
    /// table size and the cost amortised.
    private mutating func compactIfNeeded() {
        guard first > 0 else { return }
        let deadBytes = entries[first].start
        guard deadBytes > maxSize || first > 64 else { return }
        storage.removeSubrange(0..<deadBytes)
        entries.removeSubrange(0..<first)
        first = 0
        for i in entries.indices { entries[i].start -= deadBytes }
    }
}
