import Testing

@testable import MeshMetrics

@Suite struct MetricsRegistryTests {
    static let requests = CounterFamily(
        "http_requests_total", help: "Requests handled.", labelNames: ["listener", "route", "method", "code"])
    static let retries = CounterFamily("meshgate_retries_total", help: "Retries.", labelNames: ["route"])
    static let duration = HistogramFamily(
        "http_request_duration_seconds", help: "Request duration.", labelNames: ["route"],
        buckets: [0.0005, 0.001, 0.1, 1, 2.5])
    static let connections = GaugeFamily(
        "meshgate_connections_active", help: "Open client connections.", labelNames: ["listener"])
    static let generation = GaugeFamily("meshgate_config_generation", help: "Config generation.")

    @Test func goldenExposition() throws {
        var builder = MetricsRegistryBuilder()
        let getProfile = try builder.statusCounter(Self.requests, labels: ["edge", "profile", "GET"])
        let retriesA = try builder.counter(Self.retries, labels: ["profile"])
        _ = try builder.counter(Self.retries, labels: ["auth"])
        let latency = try builder.histogram(Self.duration, labels: ["profile"])
        let edge = try builder.gauge(Self.connections, labels: ["edge"])
        let generation = try builder.gauge(Self.generation, labels: [])
        let registry = builder.build(shards: 2)
        let (w0, w1) = (registry.shards[0], registry.shards[1])
        w0.add(getProfile, status: 200)
        w1.add(getProfile, status: 200, 2)
        w1.add(getProfile, status: 503)
        w0.add(retriesA)
        w1.add(retriesA, 4)
        // Dyadic values, so the sum is exact: 2^-11, 2^-10, 2^-4, a bound (1), over the top (3); and 2^-13.
        for value in [0x1p-11, 0x1p-10, 0x1p-4, 1.0, 3.0] { w0.observe(latency, value) }
        w1.observe(latency, 0x1p-13)
        w0.add(edge, 3)
        w1.add(edge, -1)
        registry.set(generation, 7)
        let expected = """
            # HELP http_request_duration_seconds Request duration.
            # TYPE http_request_duration_seconds histogram
            http_request_duration_seconds_bucket{route="profile",le="0.0005"} 2
            http_request_duration_seconds_bucket{route="profile",le="0.001"} 3
            http_request_duration_seconds_bucket{route="profile",le="0.1"} 4
            http_request_duration_seconds_bucket{route="profile",le="1"} 5
            http_request_duration_seconds_bucket{route="profile",le="2.5"} 5
            http_request_duration_seconds_bucket{route="profile",le="+Inf"} 6
            http_request_duration_seconds_sum{route="profile"} 4.0640869140625
            http_request_duration_seconds_count{route="profile"} 6
            # HELP http_requests_total Requests handled.
            # TYPE http_requests_total counter
            http_requests_total{listener="edge",route="profile",method="GET",code="200"} 3
            http_requests_total{listener="edge",route="profile",method="GET",code="503"} 1
            # HELP meshgate_config_generation Config generation.
            # TYPE meshgate_config_generation gauge
            meshgate_config_generation 7
            # HELP meshgate_connections_active Open client connections.
            # TYPE meshgate_connections_active gauge
            meshgate_connections_active{listener="edge"} 2
            # HELP meshgate_retries_total Retries.
            # TYPE meshgate_retries_total counter
            meshgate_retries_total{route="auth"} 0
            meshgate_retries_total{route="profile"} 5

            """
        #expect(registry.exposition() == expected)
    }

    @Test func labelValuesAndHelpAreEscaped() throws {
        var builder = MetricsRegistryBuilder()
        let family = CounterFamily("odd_total", help: "Back\\slash and\nnewline \"kept\".", labelNames: ["name"])
        let handle = try builder.counter(family, labels: ["a\\b\"c\nd"])
        let registry = builder.build(shards: 1)
        registry.shards[0].add(handle)
        #expect(
            registry.exposition() == """
                # HELP odd_total Back\\\\slash and\\nnewline "kept".
                # TYPE odd_total counter
                odd_total{name="a\\\\b\\"c\\nd"} 1

                """)
    }

    @Test(arguments: [
        (0.0, 0), (0.5, 0), (0.50000001, 1), (1.0, 1), (1.5, 2), (2.0, 2), (2.0000001, 3), (.infinity, 3),
        (-1.0, 0), (.nan, 3),
    ])
    func valueEqualToABoundGoesInThatBucket(value: Double, bucket: Int) throws {
        var builder = MetricsRegistryBuilder()
        let handle = try builder.histogram(HistogramFamily("h", help: "h", buckets: [0.5, 1, 2]), labels: [])
        let registry = builder.build(shards: 1)
        registry.shards[0].observe(handle, value)
        let (buckets, _) = registry.value(handle)
        #expect(buckets == (0...3).map { $0 == bucket ? 1 : 0 })
    }

    @Test func shardsMergeBySum() throws {
        var builder = MetricsRegistryBuilder()
        let counter = try builder.counter(Self.retries, labels: ["r"])
        let status = try builder.statusCounter(Self.requests, labels: ["l", "r", "GET"])
        let gauge = try builder.gauge(Self.connections, labels: ["l"])
        let registry = builder.build(shards: 4)
        for (i, shard) in registry.shards.enumerated() {
            shard.add(counter, UInt64(i + 1))
            shard.add(status, status: 200 + i)
            shard.add(status, status: 404, 2)
            shard.add(gauge, Int64(i) - 2)
        }
        registry.set(gauge, 10)
        #expect(registry.value(counter) == 10)
        #expect(registry.value(status, status: 404) == 8)
        #expect((200...203).map { registry.value(status, status: $0) } == [1, 1, 1, 1])
        #expect(registry.value(gauge) == 8)
    }

    @Test func statusTableOverflowIsCountedNotAllocated() throws {
        var builder = MetricsRegistryBuilder()
        let status = try builder.statusCounter(Self.requests, labels: ["l", "r", "GET"])
        let registry = builder.build(shards: 1)
        let shard = registry.shards[0]
        for code in 100..<(100 + MetricsShard.statusSlots + 3) { shard.add(status, status: code) }
        shard.add(status, status: 1_000)
        shard.add(status, status: 100)
        #expect(shard.droppedSamples == 4)
        #expect(registry.value(status, status: 100) == 2)
        #expect(registry.value(status, status: 100 + MetricsShard.statusSlots) == 0)
    }

    @Test func callbacksAreEvaluatedAtScrape() throws {
        var builder = MetricsRegistryBuilder()
        let box = Counter()
        try builder.callbackGauge(GaugeFamily("cb_gauge", help: "g"), labels: []) { box.next() }
        try builder.callbackCounter(CounterFamily("cb_seconds_total", help: "c"), labels: []) { 1.25 }
        let registry = builder.build(shards: 1)
        #expect(registry.exposition().contains("cb_gauge 1\n"))
        #expect(registry.exposition().contains("cb_gauge 2\n"))
        #expect(registry.exposition().contains("cb_seconds_total 1.25\n"))
    }

    @Test func registeringTwiceReturnsTheSameHandle() throws {
        var builder = MetricsRegistryBuilder()
        let a = try builder.counter(Self.retries, labels: ["x"])
        let b = try builder.counter(Self.retries, labels: ["x"])
        let c = try builder.counter(Self.retries, labels: ["y"])
        #expect(a == b && a != c)
    }

    @Test func declarationErrors() {
        var b = MetricsRegistryBuilder()
        #expect(throws: MetricsError.invalidMetricName("1bad")) {
            try b.counter(CounterFamily("1bad", help: ""), labels: [])
        }
        #expect(throws: MetricsError.invalidLabelName(family: "x", label: "__r")) {
            try b.counter(CounterFamily("x", help: "", labelNames: ["__r"]), labels: ["v"])
        }
        #expect(throws: MetricsError.invalidLabelName(family: "h", label: "le")) {
            try b.histogram(HistogramFamily("h", help: "", labelNames: ["le"], buckets: [1]), labels: ["v"])
        }
        #expect(throws: MetricsError.labelCountMismatch(family: "meshgate_retries_total", expected: 1, got: 2)) {
            try b.counter(Self.retries, labels: ["a", "b"])
        }
        #expect(throws: MetricsError.invalidBuckets("h2")) {
            try b.histogram(HistogramFamily("h2", help: "", buckets: [1, 1]), labels: [])
        }
        #expect(throws: MetricsError.conflictingFamily("meshgate_retries_total")) {
            try b.gauge(GaugeFamily("meshgate_retries_total", help: "Retries.", labelNames: ["route"]), labels: ["a"])
        }
        #expect(throws: MetricsError.mixedCounterKinds("http_requests_total")) {
            _ = try b.statusCounter(Self.requests, labels: ["l", "r", "GET"])
            _ = try b.counter(Self.requests, labels: ["l", "r", "GET", "200"])
        }
        // A trailing +Inf bound is implied and accepted.
        #expect(HistogramFamily("h3", help: "", buckets: [1, .infinity]).buckets == [1])
    }

    @Test(arguments: [
        (0.0005, "0.0005"), (1.0, "1"), (10.0, "10"), (2.5, "2.5"), (0.0, "0"), (-0.0, "0"), (1e-7, "1e-07"),
        (Double.infinity, "+Inf"), (-Double.infinity, "-Inf"), (Double.nan, "NaN"), (123456789.0, "123456789"),
        (1e300, "1e+300"), (-3.0, "-3"),
    ])
    func numbersAreFormattedForPrometheus(value: Double, text: String) {
        #expect(PrometheusText.formatDouble(value) == text)
    }
}

/// A scrape-time callback's state.
final class Counter: @unchecked Sendable {
    private var value = 0.0
    func next() -> Double {
        value += 1
        return value
    }
}
