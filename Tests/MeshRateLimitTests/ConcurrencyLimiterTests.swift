import MeshSync
import Testing

@testable import MeshRateLimit

@Suite struct ConcurrencyLimiterTests {
    static let ms: Int64 = 1_000_000

    @Test func aFixedCapAdmitsExactlyItsLimit() {
        let limiter = ConcurrencyLimiter(.fixed(3))
        #expect((0..<3).allSatisfy { _ in limiter.acquire() })
        #expect(!limiter.acquire())
        limiter.release(latencyNs: 5 * Self.ms, now: 1)
        #expect(limiter.acquire())
        #expect(limiter.current == 3)
    }

    @Test func theCapHoldsAcrossThreads() {
        let limiter = ConcurrencyLimiter(.fixed(4))
        let overshoot = Locked(false)
        runThreads(8) {
            for _ in 0..<20_000 where limiter.acquire() {
                if limiter.current > 4 { overshoot.withLock { $0 = true } }
                limiter.release(latencyNs: nil, now: 0)
            }
        }
        #expect(!overshoot.withLock { $0 })
        #expect(limiter.current == 0)
    }

    /// Feeds one window (opened at `start`) of samples at `latency`; returns the cap after the window closes.
    func window(_ limiter: ConcurrencyLimiter, at start: Int64, latency: Int64) -> Int {
        for i in 1...10 { limiter.release(latencyNs: latency, now: start + Int64(i) * Self.ms) }
        limiter.release(latencyNs: latency, now: start + 100 * Self.ms)  // closes the window
        return limiter.limit
    }

    @Test func theAdaptiveCapGrowsOnFlatLatencyAndShrinksOnALatencyStep() {
        var settings = AdaptiveConcurrencySettings()
        settings.initialLimit = 20
        settings.maxLimit = 200
        settings.minRTTRefreshWindows = 1000
        let limiter = ConcurrencyLimiter(.adaptive(settings))
        var now: Int64 = 1_000 * Self.ms
        // The first sample opens a probe window at the probe cap.
        limiter.release(latencyNs: 10 * Self.ms, now: now)
        #expect(limiter.limit == settings.probeLimit)
        #expect(window(limiter, at: now, latency: 10 * Self.ms) == 20)  // probe over: back to 20, minRTT 10 ms
        var caps: [Int] = []
        for _ in 0..<12 {
            now += 100 * Self.ms
            caps.append(window(limiter, at: now, latency: 10 * Self.ms))
        }
        #expect(caps.first! > 20)
        #expect(caps.last! == 200)
        #expect(zip(caps, caps.dropFirst()).allSatisfy { $0 <= $1 })
        // The upstream becomes 5x slower: the cap halves per window (gradient floor 0.5) down to a few.
        var after: [Int] = []
        for _ in 0..<12 {
            now += 100 * Self.ms
            after.append(window(limiter, at: now, latency: 50 * Self.ms))
        }
        #expect(after[0] < 120)
        #expect(after[3] < 40)
        #expect(after.last! <= 4 && after.last! >= settings.minLimit)
    }

    @Test func aRefreshAdoptsTheNewLatencyAsIdealAndTheCapRecovers() {
        var settings = AdaptiveConcurrencySettings()
        settings.initialLimit = 50
        settings.maxLimit = 100
        settings.minRTTRefreshWindows = 10
        let limiter = ConcurrencyLimiter(.adaptive(settings))
        var now: Int64 = 5_000 * Self.ms
        limiter.release(latencyNs: 10 * Self.ms, now: now)
        #expect(window(limiter, at: now, latency: 10 * Self.ms) == 50)
        var caps: [Int] = []
        for _ in 0..<40 {
            now += 100 * Self.ms
            caps.append(window(limiter, at: now, latency: 40 * Self.ms))
        }
        // Shrinks first, then a probe (cap = probeLimit for one window) re-measures minRTT at 40 ms and the
        // cap grows back to the maximum.
        #expect(caps.min()! <= settings.probeLimit)
        #expect(caps.last! == 100)
    }
}
