/// A counter family declaration: name, help text and label names (SPEC §6 names are declared by the gateway).
public struct CounterFamily: Sendable, Equatable {
    /// Metric name, `[a-zA-Z_:][a-zA-Z0-9_:]*` (counters conventionally end in `_total`).
    public let name: String
    /// One-line help text for `# HELP`.
    public let help: String
    /// Label names, in exposition order.
    public let labelNames: [String]

    /// Creates a declaration; it is checked when the first series is registered.
    public init(_ name: String, help: String, labelNames: [String] = []) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
    }
}

/// A gauge family declaration.
public struct GaugeFamily: Sendable, Equatable {
    /// Metric name.
    public let name: String
    /// One-line help text.
    public let help: String
    /// Label names, in exposition order.
    public let labelNames: [String]

    /// Creates a declaration.
    public init(_ name: String, help: String, labelNames: [String] = []) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
    }
}

/// A histogram family declaration with its bucket upper bounds (`le`), `+Inf` implied.
public struct HistogramFamily: Sendable, Equatable {
    /// Metric name (the exposition adds `_bucket`, `_sum`, `_count`).
    public let name: String
    /// One-line help text.
    public let help: String
    /// Label names, in exposition order; `le` is reserved.
    public let labelNames: [String]
    /// Finite, strictly increasing upper bounds; a trailing `+Inf` is accepted and dropped.
    public let buckets: [Double]

    /// Creates a declaration.
    public init(_ name: String, help: String, labelNames: [String] = [], buckets: [Double]) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
        self.buckets = buckets.last == .infinity ? Array(buckets.dropLast()) : buckets
    }
}

/// Handle of one counter series; record with `MetricsShard.add(_:_:)`.
public struct CounterHandle: Sendable, Hashable {
    let word: Int32
}

/// Handle of a counter series whose last label is an HTTP status code given at record time
/// (`http_requests_total{…,code}`); record with `MetricsShard.add(_:status:_:)`.
public struct StatusCounterHandle: Sendable, Hashable {
    let word: Int32
}

/// Handle of one gauge series: set on the registry, or add per-worker deltas on a shard.
public struct GaugeHandle: Sendable, Hashable {
    let word: Int32
    let registryIndex: Int32
}

/// Handle of one histogram series; record with `MetricsShard.observe(_:_:)`.
public struct HistogramHandle: Sendable, Hashable {
    let word: Int32
    let boundsStart: Int32
    let boundsCount: Int32
}

/// Registration errors (programming errors in the gateway's metric declarations, reported at start).
public enum MetricsError: Error, Equatable, Sendable {
    /// A metric name outside `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    case invalidMetricName(String)
    /// A label name outside `[a-zA-Z_][a-zA-Z0-9_]*`, starting with `__`, repeated, or `le` on a histogram.
    case invalidLabelName(family: String, label: String)
    /// The number of label values differs from the family's label names.
    case labelCountMismatch(family: String, expected: Int, got: Int)
    /// The same name was declared twice with a different type, help, labels or buckets.
    case conflictingFamily(String)
    /// Buckets empty, not finite or not strictly increasing.
    case invalidBuckets(String)
    /// A counter family used both with and without a status-code label.
    case mixedCounterKinds(String)
}

/// The `# TYPE` of a family.
enum MetricType: String, Sendable {
    case counter, gauge, histogram
}
