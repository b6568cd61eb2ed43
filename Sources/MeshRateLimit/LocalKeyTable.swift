/// A bounded key → value table for one thread (the global limiter's per-worker state): set-associative like
/// `ProcessRateLimiter`, with least-recently-used eviction inside each set. Allocated once; never grows.
struct LocalKeyTable<Value> {
    private var tags: [UInt64]
    private var stamps: [Int64]
    private(set) var values: [Value]
    let ways: Int
    let setCount: Int
    private(set) var count = 0

    init(maxKeys: Int, empty: Value) {
        ways = min(8, max(1, maxKeys))
        setCount = max(1, maxKeys / ways)
        tags = Array(repeating: 0, count: setCount * ways)
        stamps = Array(repeating: 0, count: setCount * ways)
        values = Array(repeating: empty, count: setCount * ways)
    }

    var capacity: Int { tags.count }

    /// The slot of `digest`, installing it (over the set's least recently used entry, reset to `empty`) when
    /// absent. `fresh` tells whether it was installed now.
    mutating func slot(_ digest: UInt64, now: Int64, empty: Value) -> (slot: Int, fresh: Bool) {
        let tag = digest == 0 ? 1 : digest
        let first = Int(tag % UInt64(setCount)) * ways
        var victim = first
        for slot in first..<(first + ways) {
            if tags[slot] == tag {
                stamps[slot] = now
                return (slot, false)
            }
            if tags[victim] != 0 && (tags[slot] == 0 || stamps[slot] < stamps[victim]) { victim = slot }
        }
        if tags[victim] == 0 { count += 1 }
        tags[victim] = tag
        stamps[victim] = now
        values[victim] = empty
        return (victim, true)
    }

    subscript(slot: Int) -> Value {
        get { values[slot] }
        set { values[slot] = newValue }
    }
}
