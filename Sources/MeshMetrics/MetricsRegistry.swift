import Synchronization

/// Bucket bounds of every histogram series, flat; shared by the registry and its shards.
final class BoundsStorage: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Double>
    let count: Int

    init(_ bounds: [Double]) {
        count = bounds.count
        pointer = .allocate(capacity: max(1, bounds.count))
        pointer.initialize(from: bounds, count: bounds.count)
    }

    deinit { pointer.deallocate() }
}

/// The immutable metric registry: declarations frozen at start, one `MetricsShard` per worker, gauges set from
/// outside, callbacks evaluated at scrape, and the Prometheus text exposition (merge = sum of the shards).
///
/// Thread-safe: shards are written by their own workers, `set` may be called from any thread, `exposition` runs
/// on the admin thread. Label sets are fixed at build time; a reload that adds routes builds a new registry.
public final class MetricsRegistry: @unchecked Sendable {
    /// The `Content-Type` of `exposition()`.
    public static let contentType = PrometheusText.contentType

    /// One recording shard per worker, in worker order.
    public let shards: [MetricsShard]
    let families: [FamilyRecord]
    let boundsStorage: BoundsStorage
    let gauges: UnsafeMutablePointer<Atomic<UInt64>>
    let gaugeCount: Int

    init(builder: MetricsRegistryBuilder, shardCount: Int) {
        families = builder.families.sorted { $0.name < $1.name }
        boundsStorage = BoundsStorage(builder.bounds)
        let storage = boundsStorage
        shards = (0..<shardCount).map { _ in
            MetricsShard(wordCount: builder.shardWords, bounds: UnsafePointer(storage.pointer), owner: storage)
        }
        gaugeCount = builder.gaugeCount
        gauges = .allocate(capacity: max(1, gaugeCount))
        for i in 0..<gaugeCount { (gauges + i).initialize(to: Atomic(Double(0).bitPattern)) }
    }

    deinit {
        gauges.deinitialize(count: gaugeCount)
        gauges.deallocate()
    }

    /// Sets the registry-level value of a gauge (e.g. breaker state, config generation); any thread.
    ///
    /// The exposed value is this plus the sum of the shards' deltas for the same gauge.
    public func set(_ handle: GaugeHandle, _ value: Double) {
        gauges[Int(handle.registryIndex)].store(value.bitPattern, ordering: .relaxed)
    }

    /// The merged value of a counter (sum over shards).
    public func value(_ handle: CounterHandle) -> UInt64 {
        shards.reduce(0) { $0 &+ $1.load(Int(handle.word)) }
    }

    /// The merged value of a status-counter series for one status.
    public func value(_ handle: StatusCounterHandle, status: Int) -> UInt64 {
        statusCounts(word: Int(handle.word))[status] ?? 0
    }

    /// The merged value of a gauge: the value set on the registry plus every shard's deltas.
    public func value(_ handle: GaugeHandle) -> Double {
        gaugeValue(word: Int(handle.word), registryIndex: Int(handle.registryIndex))
    }

    /// Samples dropped by all shards (see `MetricsShard.droppedSamples`).
    public var droppedSamples: UInt64 {
        shards.reduce(0) { $0 &+ $1.droppedSamples }
    }

    func gaugeValue(word: Int, registryIndex: Int) -> Double {
        let base = Double(bitPattern: gauges[registryIndex].load(ordering: .relaxed))
        let deltas = shards.reduce(Int64(0)) { $0 &+ Int64(bitPattern: $1.load(word)) }
        return base + Double(deltas)
    }

    func statusCounts(word: Int) -> [Int: UInt64] {
        var counts: [Int: UInt64] = [:]
        for shard in shards {
            for slot in 0..<MetricsShard.statusSlots {
                let key = shard.words[word + 2 * slot].load(ordering: .acquiring)
                guard key != 0 else { break }
                counts[Int(key - 1), default: 0] &+= shard.load(word + 2 * slot + 1)
            }
        }
        return counts
    }

    /// Merged bucket counts (non-cumulative, +Inf last) and the sum of a histogram series.
    func histogramValues(word: Int, boundsCount: Int) -> (buckets: [UInt64], sum: Double) {
        var buckets = [UInt64](repeating: 0, count: boundsCount + 1)
        var sum = 0.0
        for shard in shards {
            for i in 0...boundsCount { buckets[i] &+= shard.load(word + i) }
            sum += Double(bitPattern: shard.load(word + boundsCount + 1))
        }
        return (buckets, sum)
    }
}
