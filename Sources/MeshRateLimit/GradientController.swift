import Synchronization

/// The adaptive cap's controller (Envoy's gradient controller, Netflix concurrency-limits' Gradient):
///
///     gradient = clamp(minRTT · (1 + buffer) / sampleRTT, 0.5, 2)
///     limit'   = clamp(limit · gradient + √(limit · gradient), minLimit, maxLimit)
///
/// `sampleRTT` is the mean latency of one sample window (Envoy uses a percentile; a mean needs two atomic
/// words and no sample buffer). `minRTT` is the ideal latency: measured in a probe window with the cap held at
/// `probeLimit` (low concurrency, so queueing does not inflate it), then lowered by any faster window; it is
/// measured again every `minRTTRefreshWindows` windows, so an upstream that became slower for good gets a new
/// baseline instead of being starved. The square-root headroom lets the cap grow when latency is flat.
///
/// Thread-safe without locks: samples are added with atomic adds; the release that sees the window over and
/// wins the compare-and-swap on `windowStart` computes the next cap alone.
final class GradientController: @unchecked Sendable {
    let settings: AdaptiveConcurrencySettings
    private let windowStart = Atomic<Int64>(0)
    private let sampleCount = Atomic<Int>(0)
    private let sampleSumNs = Atomic<Int64>(0)
    /// Written only by the window closer; the closers are serialised by the window CAS.
    private let minRTTNs = Atomic<Int64>(0)
    private let windowsSinceProbe = Atomic<Int>(0)
    /// The cap to restore after a probe window; 0 when not probing.
    private let savedLimit = Atomic<Int>(0)

    init(_ settings: AdaptiveConcurrencySettings) {
        self.settings = settings
    }

    /// The cap during a probe window, within the configured bounds.
    private var probeLimit: Int { min(settings.maxLimit, max(settings.minLimit, settings.probeLimit)) }

    /// The ideal latency currently believed (0 before the first probe).
    var minRTT: Int64 { minRTTNs.load(ordering: .relaxed) }

    /// Adds one sample; returns the new cap when this call closed a window.
    func record(latencyNs: Int64, now: Int64, limit: Int) -> Int? {
        sampleCount.add(1, ordering: .relaxed)
        sampleSumNs.add(max(0, latencyNs), ordering: .relaxed)
        let start = windowStart.load(ordering: .relaxed)
        if start == 0 {
            // First sample ever: open the first window, which is a probe (no ideal latency known yet).
            if windowStart.compareExchange(expected: 0, desired: now, ordering: .relaxed).exchanged {
                savedLimit.store(limit, ordering: .relaxed)
                return probeLimit
            }
            return nil
        }
        guard now - start >= settings.sampleWindowNs,
            windowStart.compareExchange(expected: start, desired: now, ordering: .relaxed).exchanged
        else { return nil }
        let count = sampleCount.exchange(0, ordering: .relaxed)
        let sum = sampleSumNs.exchange(0, ordering: .relaxed)
        guard count > 0 else { return nil }
        return closeWindow(sampleRTT: max(1, sum / Int64(count)), limit: limit)
    }

    private func closeWindow(sampleRTT: Int64, limit: Int) -> Int {
        let saved = savedLimit.exchange(0, ordering: .relaxed)
        if saved > 0 {
            // A probe window just ended: its latency is the new ideal; the cap goes back to where it was.
            minRTTNs.store(sampleRTT, ordering: .relaxed)
            windowsSinceProbe.store(0, ordering: .relaxed)
            return saved
        }
        if windowsSinceProbe.add(1, ordering: .relaxed).newValue >= settings.minRTTRefreshWindows {
            savedLimit.store(limit, ordering: .relaxed)
            return probeLimit
        }
        var minRTT = minRTTNs.load(ordering: .relaxed)
        if sampleRTT < minRTT {
            minRTT = sampleRTT
            minRTTNs.store(minRTT, ordering: .relaxed)
        }
        let gradient = min(2.0, max(0.5, Double(minRTT) * (1 + settings.buffer) / Double(sampleRTT)))
        let scaled = Double(limit) * gradient
        let next = Int((scaled + scaled.squareRoot()).rounded(.down))
        return min(settings.maxLimit, max(settings.minLimit, next))
    }
}
