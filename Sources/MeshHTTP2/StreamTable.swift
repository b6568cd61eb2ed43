/// A map from stream id to a stream's state, for the few dozen streams a connection has open.
///
/// `Dictionary` hashes each key with SipHash: an h2 request looks its stream up ~17 times (frames, windows,
/// the bridge, the upstream channel), and the hashing alone was ~1,300 instructions a request. Here a key is
/// placed by an integer mixer over the id and a process-wide secret (stream ids are the client's choice: without
/// the secret it could pick ids that collide), linear probing, and backward-shift deletion (no tombstones). The table holds at most `limits.h2.maxConcurrentStreams` entries; at ¾ full it doubles.
public struct StreamTable<Value> {
    /// 0 marks an empty slot: stream 0 is the connection, never a stream's key.
    private var keys: [UInt32] = []
    private var slots: [Value?] = []
    public private(set) var count = 0

    private let secret: UInt32

    public init() { secret = streamTableSecret }

    /// A table with a chosen secret (tests: the spread must hold for any secret, not one process's).
    init(secret: UInt32) { self.secret = secret }

    public var isEmpty: Bool { count == 0 }

    @inline(__always)
    private func home(_ key: UInt32) -> Int {
        // A full-avalanche mixer (Wellons' lowbias32), then the top bits scaled to the table. A random odd
        // multiplier alone (the first version) spread a connection's ids (1, 3, 5, ...) well for most secrets and
        // badly for some: keys 31 slots from home in one process of a test run. The parentheses matter: `>>`
        // binds tighter than `&*` in Swift.
        var h = key ^ secret
        h ^= h >> 16
        h = h &* 0x7FEB_352D
        h ^= h >> 15
        h = h &* 0x846C_A68B
        h ^= h >> 16
        return Int(truncatingIfNeeded: (UInt64(h) &* UInt64(keys.count)) >> 32)
    }

    /// How far each key sits from its home slot (a lookup of it probes that many slots past home).
    var displacements: [Int] {
        let mask = keys.count - 1
        return keys.indices.filter { keys[$0] != 0 }.map { ($0 - home(keys[$0])) & mask }
    }

    private func find(_ key: UInt32) -> Int? {
        guard count > 0 else { return nil }
        let mask = keys.count - 1
        var i = home(key)
        while true {
            let k = keys[i]
            if k == key { return i }
            if k == 0 { return nil }
            i = (i + 1) & mask
        }
    }

    public subscript(key: UInt32) -> Value? {
        get { find(key).flatMap { slots[$0] } }
        set {
            precondition(key != 0, "stream 0 is the connection")
            if let newValue { insert(key, newValue) } else { _ = removeValue(forKey: key) }
        }
    }

    /// Changes `key`'s entry in place when there is one (one probe; a read and a write probed twice and copied
    /// the entry both ways, five times an h2 request).
    @inline(__always)
    public mutating func update<R>(_ key: UInt32, _ change: (inout Value) -> R) -> R? {
        guard let i = find(key) else { return nil }
        return change(&slots[i]!)
    }

    private mutating func insert(_ key: UInt32, _ value: Value) {
        if let i = find(key) {
            slots[i] = value
            return
        }
        if (count + 1) * 4 > keys.count * 3 { grow() }
        let mask = keys.count - 1
        var i = home(key)
        while keys[i] != 0 { i = (i + 1) & mask }
        keys[i] = key
        slots[i] = value
        count += 1
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldSlots = slots
        let capacity = max(8, keys.count * 2)
        keys = [UInt32](repeating: 0, count: capacity)
        slots = [Value?](repeating: nil, count: capacity)
        count = 0
        for (i, key) in oldKeys.enumerated() where key != 0 { insert(key, oldSlots[i]!) }
    }

    @discardableResult
    public mutating func removeValue(forKey key: UInt32) -> Value? {
        guard var hole = find(key) else { return nil }
        let removed = slots[hole]
        keys[hole] = 0
        slots[hole] = nil
        count -= 1
        // Backward shift: move each later entry of the run into the hole when its home is not between the hole
        // and where it sits, so lookups never stop early at the emptied slot.
        let mask = keys.count - 1
        var i = (hole + 1) & mask
        while keys[i] != 0 {
            let home = home(keys[i])
            let distanceFromHome = (i - home) & mask
            let distanceFromHole = (i - hole) & mask
            if distanceFromHome >= distanceFromHole {
                keys[hole] = keys[i]
                slots[hole] = slots[i]
                keys[i] = 0
                slots[i] = nil
                hole = i
            }
            i = (i + 1) & mask
        }
        return removed
    }

    public mutating func removeAll() {
        guard count > 0 else { return }
        for i in keys.indices {
            keys[i] = 0
            slots[i] = nil
        }
        count = 0
    }

    /// The ids in the table, in no particular order. A view, not a copy: iterating allocates nothing, and the
    /// table may change meanwhile (the view keeps the storage it started with, as `Dictionary`'s views do).
    public var ids: LazyFilterSequence<[UInt32]> { keys.lazy.filter { $0 != 0 } }

    /// The values in the table, in no particular order (a view, like `ids`: a connection-level WINDOW_UPDATE
    /// pumps every stream through it).
    public var values: LazyMapSequence<LazyFilterSequence<[Value?]>, Value> {
        slots.lazy.filter { $0 != nil }.map { $0! }
    }
}

/// Random per process (see `StreamTable`).
private let streamTableSecret: UInt32 = UInt32.random(in: 0...UInt32.max)

extension StreamTable: Sendable where Value: Sendable {}
