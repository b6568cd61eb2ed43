import CLinux
import MeshSync

/// Process-wide counters and gauges for rare events recorded from any thread (breaker transitions, reloads, JWKS
/// refreshes): a mutex-guarded table read by callback series at scrape time.
///
/// One instance lives for the whole process and is handed from each `Telemetry` to the next on reload, so these
/// values survive reloads without the registry's carry-over. Never used per request.
final class ProcessCounters: Sendable {
    private let values = Locked<[String: Double]>([:])

    /// Adds `amount` to the named counter.
    func add(_ key: String, _ amount: Double = 1) {
        values.withLock { $0[key, default: 0] += amount }
    }

    /// Sets the named value.
    func set(_ key: String, _ value: Double) {
        values.withLock { $0[key] = value }
    }

    /// The named value, or `missing` when it was never recorded.
    func value(_ key: String, missing: Double = 0) -> Double {
        values.withLock { $0[key] } ?? missing
    }

    /// Key of a labelled value: the family name and label values joined by NUL (never in a label value here).
    static func key(_ parts: String...) -> String { parts.joined(separator: "\u{0}") }

    /// Seconds on CLOCK_MONOTONIC_COARSE, for ages computed at scrape time.
    static func monotonicSeconds() -> Double { Double(clinux_monotonic_coarse_ms()) / 1000 }
}
