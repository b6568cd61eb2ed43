/// The shard-recorded value of one series, merged over shards (and over earlier registries after a reload).
enum SeriesValue: Sendable, Equatable {
    /// A counter total.
    case counter(UInt64)
    /// The sum of the shards' signed gauge deltas (the registry-level `set` value is not part of it).
    case gaugeDelta(Int64)
    /// Counts per status code.
    case status([Int: UInt64])
    /// Non-cumulative bucket counts (`+Inf` last) and the sum.
    case histogram(buckets: [UInt64], sum: Double)

    /// Adds two values of the same shape; nil when the shapes differ (a family changed between configs).
    static func merge(_ a: SeriesValue, _ b: SeriesValue) -> SeriesValue? {
        switch (a, b) {
        case (.counter(let x), .counter(let y)):
            return .counter(x &+ y)
        case (.gaugeDelta(let x), .gaugeDelta(let y)):
            return .gaugeDelta(x &+ y)
        case (.status(let x), .status(let y)):
            return .status(x.merging(y, uniquingKeysWith: &+))
        case (.histogram(let xb, let xs), .histogram(let yb, let ys)) where xb.count == yb.count:
            return .histogram(buckets: zip(xb, yb).map { $0 &+ $1 }, sum: xs + ys)
        default:
            return nil
        }
    }
}
