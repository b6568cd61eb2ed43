import Testing

@testable import MeshMetrics

/// A reload builds a new registry `continuing` the old one (SPEC §7: counters must not reset on reload).
@Suite struct ReloadCarryTests {
    static let retries = CounterFamily("meshgate_retries_total", help: "Retries.", labelNames: ["route"])
    static let requests = CounterFamily("http_requests_total", help: "Requests.", labelNames: ["route", "code"])
    static let duration = HistogramFamily("d_seconds", help: "d", labelNames: ["route"], buckets: [0.5, 1])
    static let active = GaugeFamily("active", help: "a", labelNames: ["listener"])

    @Test func unchangedSeriesKeepCountingAcrossAReload() throws {
        var first = MetricsRegistryBuilder()
        let oldRetries = try first.counter(Self.retries, labels: ["profile"])
        _ = try first.counter(Self.retries, labels: ["removed"])
        let oldStatus = try first.statusCounter(Self.requests, labels: ["profile"])
        let oldHist = try first.histogram(Self.duration, labels: ["profile"])
        let oldActive = try first.gauge(Self.active, labels: ["edge"])
        let old = first.build(shards: 2)
        old.shards[0].add(oldRetries, 3)
        old.shards[1].add(oldStatus, status: 200, 4)
        old.shards[0].observe(oldHist, 0.75)
        old.shards[1].add(oldActive, 2)

        // The new config adds a route; series are re-registered in another order, so words differ.
        var second = MetricsRegistryBuilder()
        let added = try second.counter(Self.retries, labels: ["added"])
        let newHist = try second.histogram(Self.duration, labels: ["profile"])
        let newStatus = try second.statusCounter(Self.requests, labels: ["profile"])
        let newRetries = try second.counter(Self.retries, labels: ["profile"])
        let newActive = try second.gauge(Self.active, labels: ["edge"])
        let new = second.build(shards: 2, continuing: old)
        new.shards[1].add(newRetries)
        new.shards[0].add(newStatus, status: 200)
        new.shards[0].add(newStatus, status: 404)
        new.shards[1].observe(newHist, 0.25)
        // A connection opened before the reload closes after it.
        new.shards[0].add(newActive, -1)
        // A worker still finishing on the old config records into the old shards: still counted.
        old.shards[0].add(oldRetries)

        #expect(new.value(newRetries) == 5)
        #expect(new.value(added) == 0)
        #expect(new.value(newStatus, status: 200) == 5 && new.value(newStatus, status: 404) == 1)
        #expect(new.value(newHist).buckets == [1, 1, 0] && new.value(newHist).sum == 1.0)
        #expect(new.value(newActive) == 1)
        let text = new.exposition()
        #expect(text.contains("meshgate_retries_total{route=\"profile\"} 5\n"))
        #expect(!text.contains("removed"))
        #expect(text.contains("d_seconds_count{route=\"profile\"} 2\n"))

        // Once detached, the old registry's later writes no longer count, earlier ones stay.
        new.detachPrevious()
        old.shards[0].add(oldRetries, 100)
        #expect(new.value(newRetries) == 5)
        new.shards[0].add(newRetries)
        #expect(new.value(newRetries) == 6)
    }

    @Test func chainedReloadsAccumulate() throws {
        var registries: [MetricsRegistry] = []
        var handle: CounterHandle?
        for generation in 0..<4 {
            var builder = MetricsRegistryBuilder()
            // Each generation registers a different extra series first, shifting the word of the shared one.
            for extra in 0..<generation { _ = try builder.counter(Self.retries, labels: ["extra\(extra)"]) }
            handle = try builder.counter(Self.retries, labels: ["shared"])
            let registry = builder.build(shards: 1, continuing: registries.last)
            registry.shards[0].add(handle!, UInt64(generation + 1))
            registries.append(registry)
        }
        #expect(registries[3].value(handle!) == 1 + 2 + 3 + 4)
        registries[3].detachPrevious()
        #expect(registries[3].value(handle!) == 10)
    }
}
