import MeshSync
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
/// on the admin thread. Label sets are fixed at build time. A reload that changes them builds a new registry
/// `continuing` the old one, so counters and histograms of unchanged series keep counting up (SPEC §7).
public final class MetricsRegistry: @unchecked Sendable {
    /// The `Content-Type` of `exposition()`.
    public static let contentType = PrometheusText.contentType

    /// What an earlier registry contributes to this one's series.
    enum Carry: Sendable {
        case none
        /// Still live: its shards may still be written by workers finishing on the old config.
        case previous(MetricsRegistry)
        /// Frozen totals by series key, taken by `detachPrevious()`.
        case baseline([String: SeriesValue])
    }

    /// One recording shard per worker, in worker order.
    public let shards: [MetricsShard]
    let families: [FamilyRecord]
    let boundsStorage: BoundsStorage
    let gauges: UnsafeMutablePointer<Atomic<UInt64>>
    let gaugeCount: Int
    /// Series key (`family\0label\0…`) → (family index, series index).
    let seriesByKey: [String: (Int, Int)]
    /// First shard word of a series → its key (handles carry words).
    let keyByWord: [Int: String]
    let carry: Locked<Carry>

    init(builder: MetricsRegistryBuilder, shardCount: Int, continuing previous: MetricsRegistry?) {
        families = builder.families.sorted { $0.name < $1.name }
        boundsStorage = BoundsStorage(builder.bounds)
        let storage = boundsStorage
        shards = (0..<shardCount).map { _ in
            MetricsShard(wordCount: builder.shardWords, bounds: UnsafePointer(storage.pointer), owner: storage)
        }
        gaugeCount = builder.gaugeCount
        gauges = .allocate(capacity: max(1, gaugeCount))
        for i in 0..<gaugeCount { (gauges + i).initialize(to: Atomic(Double(0).bitPattern)) }
        var byKey: [String: (Int, Int)] = [:]
        var byWord: [Int: String] = [:]
        for (f, family) in families.enumerated() {
            for (s, series) in family.series.enumerated() {
                let key = MetricsRegistryBuilder.seriesKey(family.name, series.labels)
                byKey[key] = (f, s)
                if let word = series.storage.word { byWord[word] = key }
            }
        }
        seriesByKey = byKey
        keyByWord = byWord
        carry = Locked(previous.map { .previous($0) } ?? .none)
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

    /// Freezes what the previous registry contributes and lets it go.
    ///
    /// Call it once no worker records into the previous registry's shards any more (every exchange that started
    /// on the old config finished); until then the previous shards are read live at every scrape.
    public func detachPrevious() {
        guard case .previous(let previous) = carry.withLock({ $0 }) else { return }
        var baseline: [String: SeriesValue] = [:]
        for key in seriesByKey.keys {
            if let value = previous.totalValue(key: key) { baseline[key] = value }
        }
        carry.withLock { $0 = .baseline(baseline) }
    }

    /// The merged value of a counter (all shards, earlier registries included).
    public func value(_ handle: CounterHandle) -> UInt64 {
        guard case .counter(let total) = totalValue(word: Int(handle.word)) else { return 0 }
        return total
    }

    /// The merged value of a status-counter series for one status.
    public func value(_ handle: StatusCounterHandle, status: Int) -> UInt64 {
        guard case .status(let counts) = totalValue(word: Int(handle.word)) else { return 0 }
        return counts[status] ?? 0
    }

    /// The merged value of a gauge: the value set on the registry plus every shard's deltas.
    public func value(_ handle: GaugeHandle) -> Double {
        let base = Double(bitPattern: gauges[Int(handle.registryIndex)].load(ordering: .relaxed))
        guard case .gaugeDelta(let deltas) = totalValue(word: Int(handle.word)) else { return base }
        return base + Double(deltas)
    }

    /// The merged histogram: non-cumulative bucket counts (one per bound, then `+Inf`) and the sum.
    public func value(_ handle: HistogramHandle) -> (buckets: [UInt64], sum: Double) {
        guard case .histogram(let buckets, let sum) = totalValue(word: Int(handle.word)) else {
            return ([UInt64](repeating: 0, count: Int(handle.boundsCount) + 1), 0)
        }
        return (buckets, sum)
    }

    /// Samples dropped by all shards (see `MetricsShard.droppedSamples`).
    public var droppedSamples: UInt64 {
        shards.reduce(0) { $0 &+ $1.droppedSamples }
    }

    // MARK: - Reading the shards

    func totalValue(word: Int) -> SeriesValue? {
        keyByWord[word].flatMap { totalValue(key: $0) }
    }

    /// This registry's shards plus what earlier registries hold for the same series.
    func totalValue(key: String) -> SeriesValue? {
        guard let (f, s) = seriesByKey[key] else { return nil }
        let family = families[f]
        guard let local = localValue(family.series[s], boundsCount: family.buckets.count) else { return nil }
        // Copy the carry out so no lock is held while reading older registries.
        let carried: SeriesValue?
        switch carry.withLock({ $0 }) {
        case .none: carried = nil
        case .baseline(let values): carried = values[key]
        case .previous(let previous): carried = previous.totalValue(key: key)
        }
        guard let carried else { return local }
        return SeriesValue.merge(local, carried) ?? local
    }

    /// The series' value summed over this registry's shards; nil for callbacks.
    func localValue(_ series: SeriesRecord, boundsCount: Int) -> SeriesValue? {
        switch series.storage {
        case .counter(let word):
            return .counter(shards.reduce(0) { $0 &+ $1.load(word) })
        case .gauge(let word, _):
            return .gaugeDelta(shards.reduce(0) { $0 &+ Int64(bitPattern: $1.load(word)) })
        case .statusCounter(let word):
            return .status(statusCounts(word: word))
        case .histogram(let word, _, _):
            var buckets = [UInt64](repeating: 0, count: boundsCount + 1)
            var sum = 0.0
            for shard in shards {
                for i in 0...boundsCount { buckets[i] &+= shard.load(word + i) }
                sum += Double(bitPattern: shard.load(word + boundsCount + 1))
            }
            return .histogram(buckets: buckets, sum: sum)
        case .callback:
            return nil
        }
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
}
