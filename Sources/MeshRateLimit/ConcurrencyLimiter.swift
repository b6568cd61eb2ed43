import Synchronization

/// `upstreams.*.max_in_flight`: caps the requests in flight to one upstream across every worker; the excess
/// is answered 503 at once (SPEC §11), shedding load before the upstream falls over.
///
/// `acquire` and `release` are one compare-and-swap / one atomic add on the in-flight count, so the cap is
/// exact across threads. With `.adaptive` the cap follows measured latency (see `GradientController`); the
/// controller runs once per sample window, in whichever `release` closes the window, never under a lock.
public final class ConcurrencyLimiter: @unchecked Sendable {
    /// How the cap is set.
    public enum Mode: Sendable, Equatable {
        case fixed(Int)
        case adaptive(AdaptiveConcurrencySettings)
    }

    public let mode: Mode
    private let inFlight = Atomic<Int>(0)
    private let limitWord: Atomic<Int>
    private let controller: GradientController?

    public init(_ mode: Mode) {
        self.mode = mode
        switch mode {
        case .fixed(let limit):
            precondition(limit >= 1, "max_in_flight must be positive")
            limitWord = Atomic(limit)
            controller = nil
        case .adaptive(let settings):
            limitWord = Atomic(settings.initialLimit)
            controller = GradientController(settings)
        }
    }

    /// The current cap.
    public var limit: Int { limitWord.load(ordering: .relaxed) }
    /// Requests admitted and not yet released.
    public var current: Int { inFlight.load(ordering: .relaxed) }

    /// Takes a place if one is free; false means "answer 503 unavailable now". Every true must be matched by
    /// exactly one `release`.
    @inline(__always)
    public func acquire() -> Bool {
        var seen = inFlight.load(ordering: .relaxed)
        while true {
            if seen >= limitWord.load(ordering: .relaxed) { return false }
            let (exchanged, original) = inFlight.compareExchange(
                expected: seen, desired: seen + 1, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            seen = original
        }
    }

    /// Gives the place back. `latencyNs`: the upstream's response time for a request that got an answer
    /// (nil for failures, cancellations and requests never sent, which say nothing about latency); `now` in
    /// monotonic ns.
    @inline(__always)
    public func release(latencyNs: Int64?, now: Int64) {
        inFlight.subtract(1, ordering: .acquiringAndReleasing)
        guard let controller, let latencyNs else { return }
        if let newLimit = controller.record(latencyNs: latencyNs, now: now, limit: limitWord.load(ordering: .relaxed)) {
            limitWord.store(newLimit, ordering: .relaxed)
        }
    }
}

/// Settings of the adaptive limit, defaults close to Envoy's adaptive concurrency filter.
public struct AdaptiveConcurrencySettings: Sendable, Equatable {
    public var initialLimit = 16
    public var minLimit = 1
    public var maxLimit = 1000
    /// Latency samples are averaged over windows of this length.
    public var sampleWindowNs: Int64 = 100_000_000
    /// Every this many windows the ideal latency is measured again, with the cap held at `probeLimit`.
    public var minRTTRefreshWindows = 100
    public var probeLimit = 3
    /// Latency above the ideal tolerated before the cap shrinks (0.1: 10%).
    public var buffer = 0.1

    public init() {}
}
