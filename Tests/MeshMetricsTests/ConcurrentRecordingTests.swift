import Testing

@testable import MeshMetrics

@Suite struct ConcurrentRecordingTests {
    /// Four workers record into their own shards while scrapes run; afterwards the merge is exact.
    /// (No timing involved: the assertions are on totals after all tasks joined.)
    @Test func workersRecordWhileScraping() async throws {
        var builder = MetricsRegistryBuilder()
        let family = CounterFamily("c_total", help: "c", labelNames: ["route", "code"])
        let status = try builder.statusCounter(family, labels: ["r"])
        let hist = try builder.histogram(HistogramFamily("h_seconds", help: "h", buckets: [0.5, 1]), labels: [])
        let registry = builder.build(shards: 4)
        let perWorker = 20_000
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    let shard = registry.shards[worker]
                    for i in 0..<perWorker {
                        shard.add(status, status: i % 2 == 0 ? 200 : 500)
                        shard.observe(hist, i % 2 == 0 ? 0.25 : 0.75)
                    }
                }
            }
            group.addTask {
                for _ in 0..<20 { _ = registry.exposition() }
            }
        }
        #expect(registry.value(status, status: 200) == UInt64(2 * perWorker))
        #expect(registry.value(status, status: 500) == UInt64(2 * perWorker))
        let (buckets, sum) = registry.value(hist)
        #expect(buckets == [UInt64(2 * perWorker), UInt64(2 * perWorker), 0])
        #expect(sum == Double(2 * perWorker) * 0.25 + Double(2 * perWorker) * 0.75)
    }
}
