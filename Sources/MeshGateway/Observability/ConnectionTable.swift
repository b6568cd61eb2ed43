import Synchronization

/// Upstream connection counts per endpoint for `/upstreams` (`active`, `idle`), kept by the workers.
///
/// Design: one row per worker, one (active, idle) pair per endpoint, each a relaxed atomic written only by its
/// worker (a load and a store, no locked instruction, as in `MetricsShard`) and summed by the admin thread. The
/// same deltas also feed the `meshgate_upstream_connections{upstream,state}` gauge, which is per upstream only.
/// Indexes are the config's: `[upstream index][endpoint index]`. A reload that keeps the same upstreams and
/// endpoints (same names, same order) keeps the table; otherwise a new one starts from zero.
public final class ConnectionTable: @unchecked Sendable {
    /// Endpoint addresses (`host:port`) per upstream, in config order: what the indexes mean.
    public let layout: [[String]]
    let base: [Int]
    let perWorker: Int
    let workers: Int
    private let words: UnsafeMutablePointer<Atomic<Int64>>

    /// A zeroed table for `layout` (endpoint addresses per upstream, upstream order) and `workers` rows.
    public init(layout: [[String]], workers: Int) {
        self.layout = layout
        var offsets: [Int] = []
        var total = 0
        for row in layout {
            offsets.append(total)
            total += row.count
        }
        base = offsets
        perWorker = total * 2
        self.workers = max(1, workers)
        let count = max(1, perWorker * self.workers)
        words = .allocate(capacity: count)
        for i in 0..<count { (words + i).initialize(to: Atomic(0)) }
    }

    deinit {
        words.deinitialize(count: max(1, perWorker * workers))
        words.deallocate()
    }

    /// Adds deltas for one endpoint. Call only from worker `worker`'s thread; out-of-range indexes are ignored.
    @inline(__always)
    public func add(worker: Int, upstream: Int, endpoint: Int, active: Int, idle: Int) {
        guard worker >= 0, worker < workers, upstream >= 0, upstream < base.count, endpoint >= 0,
            endpoint < layout[upstream].count
        else { return }
        let word = words + worker * perWorker + (base[upstream] + endpoint) * 2
        word.pointee.store(word.pointee.load(ordering: .relaxed) &+ Int64(active), ordering: .relaxed)
        let idleWord = word + 1
        idleWord.pointee.store(idleWord.pointee.load(ordering: .relaxed) &+ Int64(idle), ordering: .relaxed)
    }

    /// The counts summed over workers (any thread; never negative).
    public func counts(upstream: Int, endpoint: Int) -> (active: Int, idle: Int) {
        guard upstream >= 0, upstream < base.count, endpoint >= 0, endpoint < layout[upstream].count else {
            return (0, 0)
        }
        var active: Int64 = 0
        var idle: Int64 = 0
        for w in 0..<workers {
            let word = words + w * perWorker + (base[upstream] + endpoint) * 2
            active &+= word.pointee.load(ordering: .relaxed)
            idle &+= (word + 1).pointee.load(ordering: .relaxed)
        }
        return (Int(max(0, active)), Int(max(0, idle)))
    }
}
