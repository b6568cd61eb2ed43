/// Where the value of one series lives.
enum SeriesStorage: Sendable {
    case counter(word: Int)
    case statusCounter(word: Int)
    case gauge(word: Int, registryIndex: Int)
    case histogram(word: Int, boundsStart: Int, boundsCount: Int)
    case callback(@Sendable () -> Double)

    /// The first shard word of the series, or nil for callbacks.
    var word: Int? {
        switch self {
        case .counter(let word), .statusCounter(let word), .gauge(let word, _), .histogram(let word, _, _): word
        case .callback: nil
        }
    }
}

/// One series: its label values and its storage.
struct SeriesRecord: Sendable {
    let labels: [String]
    let storage: SeriesStorage
}

/// One declared family with its series.
struct FamilyRecord: Sendable {
    let name: String
    let help: String
    let type: MetricType
    /// All label names, the status label included for status counters.
    let labelNames: [String]
    let buckets: [Double]
    var isStatusCounter: Bool?
    var series: [SeriesRecord] = []
}

/// Collects the metric declarations and the label value sets at start, then builds the immutable registry.
///
/// Label values come from configuration names (routes, listeners, upstreams, endpoints) and fixed enums, never
/// from raw request data. Registering the same family and labels twice returns the same handle.
public struct MetricsRegistryBuilder: Sendable {
    var families: [FamilyRecord] = []
    var familyIndex: [String: Int] = [:]
    var handles: [String: SeriesStorage] = [:]
    var shardWords = 0
    var gaugeCount = 0
    var bounds: [Double] = []

    /// Creates an empty builder.
    public init() {}

    /// Registers a counter series with `labels` (one value per label name).
    public mutating func counter(_ family: CounterFamily, labels: [String]) throws(MetricsError) -> CounterHandle {
        let index = try familyFor(family.name, family.help, .counter, family.labelNames, [])
        try markStatus(index, false)
        try checkCount(index, labels.count)
        let storage = existing(index, labels) ?? add(index, labels, .counter(word: allocate(1)))
        guard case .counter(let word) = storage else { throw .conflictingFamily(family.name) }
        return CounterHandle(word: Int32(word))
    }

    /// Registers a counter series whose last label (the family's last label name, e.g. `code`) is a status code
    /// given when recording; `labels` holds the values of the other labels.
    public mutating func statusCounter(
        _ family: CounterFamily, labels: [String]
    ) throws(MetricsError) -> StatusCounterHandle {
        let index = try familyFor(family.name, family.help, .counter, family.labelNames, [])
        try markStatus(index, true)
        try checkCount(index, labels.count + 1)
        let storage =
            existing(index, labels) ?? add(index, labels, .statusCounter(word: allocate(2 * MetricsShard.statusSlots)))
        guard case .statusCounter(let word) = storage else { throw .conflictingFamily(family.name) }
        return StatusCounterHandle(word: Int32(word))
    }

    /// Registers a gauge series: set with `MetricsRegistry.set`, plus per-worker deltas with `MetricsShard.add`.
    public mutating func gauge(_ family: GaugeFamily, labels: [String]) throws(MetricsError) -> GaugeHandle {
        let index = try familyFor(family.name, family.help, .gauge, family.labelNames, [])
        try checkCount(index, labels.count)
        var storage = existing(index, labels)
        if storage == nil {
            gaugeCount += 1
            storage = add(index, labels, .gauge(word: allocate(1), registryIndex: gaugeCount - 1))
        }
        guard case .gauge(let word, let registryIndex) = storage else { throw .conflictingFamily(family.name) }
        return GaugeHandle(word: Int32(word), registryIndex: Int32(registryIndex))
    }

    /// Registers a histogram series.
    public mutating func histogram(
        _ family: HistogramFamily, labels: [String]
    ) throws(MetricsError) -> HistogramHandle {
        try Self.checkBuckets(family)
        let index = try familyFor(family.name, family.help, .histogram, family.labelNames, family.buckets)
        try checkCount(index, labels.count)
        var storage = existing(index, labels)
        if storage == nil {
            let start = bounds.count
            bounds += family.buckets
            // Words: one per bucket, the +Inf bucket, the sum.
            let word = allocate(family.buckets.count + 2)
            storage = add(index, labels, .histogram(word: word, boundsStart: start, boundsCount: family.buckets.count))
        }
        guard case .histogram(let word, let start, let count) = storage else {
            throw .conflictingFamily(family.name)
        }
        return HistogramHandle(word: Int32(word), boundsStart: Int32(start), boundsCount: Int32(count))
    }

    /// Registers a gauge series evaluated at scrape time (process metrics, JWKS age). `read` runs on the scrape
    /// thread and must not block for long. Registering the same labels again keeps the first callback.
    public mutating func callbackGauge(
        _ family: GaugeFamily, labels: [String], read: @escaping @Sendable () -> Double
    ) throws(MetricsError) {
        let index = try familyFor(family.name, family.help, .gauge, family.labelNames, [])
        try checkCount(index, labels.count)
        if existing(index, labels) == nil { add(index, labels, .callback(read)) }
    }

    /// Registers a counter series evaluated at scrape time (e.g. `process_cpu_seconds_total`).
    public mutating func callbackCounter(
        _ family: CounterFamily, labels: [String], read: @escaping @Sendable () -> Double
    ) throws(MetricsError) {
        let index = try familyFor(family.name, family.help, .counter, family.labelNames, [])
        try markStatus(index, false)
        try checkCount(index, labels.count)
        if existing(index, labels) == nil { add(index, labels, .callback(read)) }
    }

    /// Freezes the declarations into a registry with `shards` recording shards (one per worker, ≥ 1).
    ///
    /// With `previous` (a reload), series that exist in both keep their counts: the new registry adds what the
    /// previous one holds for the same family and labels, read live until `detachPrevious()` freezes it.
    /// Registry-level gauge values (`set`) are not carried; set them again.
    public func build(shards: Int, continuing previous: MetricsRegistry? = nil) -> MetricsRegistry {
        MetricsRegistry(builder: self, shardCount: max(1, shards), continuing: previous)
    }

    // MARK: - Internals

    private mutating func allocate(_ words: Int) -> Int {
        shardWords += words
        return shardWords - words
    }

    private mutating func familyFor(
        _ name: String, _ help: String, _ type: MetricType, _ labelNames: [String], _ buckets: [Double]
    ) throws(MetricsError) -> Int {
        if let index = familyIndex[name] {
            let f = families[index]
            guard f.type == type, f.help == help, f.labelNames == labelNames, f.buckets == buckets else {
                throw .conflictingFamily(name)
            }
            return index
        }
        guard Self.isMetricName(name) else { throw .invalidMetricName(name) }
        for (i, label) in labelNames.enumerated() {
            guard Self.isLabelName(label), !labelNames[..<i].contains(label), !(type == .histogram && label == "le")
            else { throw .invalidLabelName(family: name, label: label) }
        }
        families.append(FamilyRecord(name: name, help: help, type: type, labelNames: labelNames, buckets: buckets))
        familyIndex[name] = families.count - 1
        return families.count - 1
    }

    private mutating func markStatus(_ index: Int, _ status: Bool) throws(MetricsError) {
        if let existing = families[index].isStatusCounter, existing != status {
            throw .mixedCounterKinds(families[index].name)
        }
        if status, families[index].labelNames.isEmpty {
            throw .labelCountMismatch(family: families[index].name, expected: 1, got: 0)
        }
        families[index].isStatusCounter = status
    }

    private func checkCount(_ index: Int, _ count: Int) throws(MetricsError) {
        let family = families[index]
        guard count == family.labelNames.count else {
            throw .labelCountMismatch(family: family.name, expected: family.labelNames.count, got: count)
        }
    }

    private func key(_ index: Int, _ labels: [String]) -> String {
        Self.seriesKey(families[index].name, labels)
    }

    /// The identity of a series across registries: family name and label values.
    static func seriesKey(_ family: String, _ labels: [String]) -> String {
        ([family] + labels).joined(separator: "\u{0}")
    }

    private func existing(_ index: Int, _ labels: [String]) -> SeriesStorage? {
        handles[key(index, labels)]
    }

    @discardableResult
    private mutating func add(_ index: Int, _ labels: [String], _ storage: SeriesStorage) -> SeriesStorage {
        handles[key(index, labels)] = storage
        families[index].series.append(SeriesRecord(labels: labels, storage: storage))
        return storage
    }

    static func checkBuckets(_ family: HistogramFamily) throws(MetricsError) {
        guard !family.buckets.isEmpty, family.buckets.allSatisfy(\.isFinite),
            zip(family.buckets, family.buckets.dropFirst()).allSatisfy({ $0 < $1 })
        else { throw .invalidBuckets(family.name) }
    }

    static func isMetricName(_ name: String) -> Bool {
        guard let first = name.utf8.first, isAlpha(first) || first == UInt8(ascii: "_") || first == UInt8(ascii: ":")
        else { return false }
        return name.utf8.allSatisfy { isAlpha($0) || isDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":") }
    }

    static func isLabelName(_ name: String) -> Bool {
        guard let first = name.utf8.first, isAlpha(first) || first == UInt8(ascii: "_"), !name.hasPrefix("__")
        else { return false }
        return name.utf8.allSatisfy { isAlpha($0) || isDigit($0) || $0 == UInt8(ascii: "_") }
    }

    private static func isAlpha(_ b: UInt8) -> Bool {
        (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z")
    }
    private static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
}
