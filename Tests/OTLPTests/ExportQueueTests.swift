import Glibc
import MeshGateway
import Testing

/// Batching, back-pressure turned into counted drops, failures, and the flush at stop.
@Suite(.serialized) struct ExportQueueTests {
    static let devNull = open("/dev/null", O_WRONLY | O_CLOEXEC)

    @Test func batchesHoldAtMostMaxBatchSpans() throws {
        let collector = try Collector()
        defer { collector.stop() }
        let telemetry = Telemetry(
            config: otlpConfig(endpoint: collector.url), workers: 2, output: Self.devNull,
            otlp: fastOptions(batch: 100))
        defer { telemetry.stop() }
        for n in 0..<450 { telemetry.worker(n % 2).requestFinished(sampledRecord(UInt64(n))) }
        #expect(Collector.eventually { telemetry.exporter?.exportedSpans == 450 })
        let batches = try collector.received.map { try ExportRequest($0).spans }
        #expect(batches.count >= 5)
        #expect(batches.allSatisfy { $0.count <= 100 })
        let ids = Set(batches.joined().compactMap { $0["spanId"]?.stringValue })
        #expect(ids.count == 450)
        #expect(telemetry.exporter?.droppedSpans == 0)
    }

    @Test func hungCollectorMakesFullQueueDropAndCount() throws {
        let collector = try Collector(.silent)
        defer { collector.stop() }
        let telemetry = Telemetry(
            config: otlpConfig(endpoint: collector.url), workers: 1, output: Self.devNull,
            otlp: fastOptions(queue: 64, timeoutMs: 1500))
        defer { telemetry.stop() }
        let exporter = try #require(telemetry.exporter)
        let worker = telemetry.worker(0)
        worker.requestFinished(sampledRecord(0))
        // Once the collector holds the first batch, the exporter waits for its answer (up to 1.5 s): nothing
        // leaves the queue meanwhile, so of 64 + 100 more spans exactly 100 are refused, at once.
        #expect(Collector.eventually { collector.received.count == 1 })
        for n in 1...164 { worker.requestFinished(sampledRecord(UInt64(n))) }
        #expect(exporter.droppedSpans == 100)
        #expect(Collector.eventually { exporter.exportFailures >= 1 })
        let text = telemetry.metricsText()
        #expect(text.contains("\nmeshgate_otlp_spans_dropped_total 100\n"))
        #expect(!text.contains("\nmeshgate_otlp_export_failures_total 0\n"))
        #expect(exporter.exportedSpans == 0)
    }

    @Test func collectorDownCountsFailuresAndLogsOnce() throws {
        let log = LogFile()
        defer { log.remove() }
        let endpoint = "http://127.0.0.1:\(closedPort())/v1/traces"
        let telemetry = Telemetry(
            config: otlpConfig(endpoint: endpoint), workers: 1, output: log.fd, otlp: fastOptions())
        let exporter = try #require(telemetry.exporter)
        for n in 1...3 {
            telemetry.worker(0).requestFinished(sampledRecord(UInt64(n)))
            #expect(Collector.eventually { exporter.exportFailures == UInt64(n) })
        }
        telemetry.stop()
        #expect(exporter.exportedSpans == 0)
        let lines = log.contents().split(separator: "\n").filter { $0.contains("otlp export failed") }
        // Rate-limited: one line per 10 s however many batches fail.
        #expect(lines.count == 1)
        #expect(lines.first?.contains("\"level\":\"warn\"") == true)
        #expect(lines.first?.contains("127.0.0.1:") == true)
        #expect(lines.first?.contains("connect") == true)
    }

    @Test func rejectingCollectorCountsFailures() throws {
        let collector = try Collector(.reject(503))
        defer { collector.stop() }
        let telemetry = Telemetry(
            config: otlpConfig(endpoint: collector.url), workers: 1, output: Self.devNull, otlp: fastOptions())
        defer { telemetry.stop() }
        telemetry.worker(0).requestFinished(sampledRecord())
        #expect(Collector.eventually { telemetry.exporter?.exportFailures == 1 })
        #expect(collector.received.count == 1)
        #expect(telemetry.exporter?.exportedSpans == 0)
    }

    @Test func stopSendsWhatIsQueued() throws {
        let collector = try Collector()
        defer { collector.stop() }
        var options = fastOptions()
        options.flushIntervalMs = 600_000
        let telemetry = Telemetry(
            config: otlpConfig(endpoint: collector.url), workers: 1, output: Self.devNull, otlp: options)
        for n in 1...10 { telemetry.worker(0).requestFinished(sampledRecord(UInt64(n))) }
        // Nothing is due for ten minutes; stop() must send the ten spans anyway.
        telemetry.stop()
        #expect(telemetry.exporter?.exportedSpans == 10)
        #expect(try collector.received.flatMap { try ExportRequest($0).spans }.count == 10)
        telemetry.worker(0).requestFinished(sampledRecord(11))
        #expect(telemetry.exporter?.droppedSpans == 1)
    }

    @Test func generationsWithDifferentServiceNamesShareABatchAsTwoResources() throws {
        let collector = try Collector()
        defer { collector.stop() }
        var options = fastOptions()
        options.flushIntervalMs = 600_000
        let old = Telemetry(
            config: otlpConfig(endpoint: collector.url, service: "old-name"), workers: 1, output: Self.devNull,
            otlp: options)
        let new = Telemetry(config: otlpConfig(endpoint: collector.url, service: "new-name"), workers: 1, previous: old)
        #expect(new.exporter === old.exporter)
        // A late request of the old generation and one of the new, on the same worker thread.
        old.worker(0).requestFinished(sampledRecord(1))
        new.worker(0).requestFinished(sampledRecord(2))
        new.stop()
        let requests = try collector.received.map(ExportRequest.init)
        try #require(requests.count == 1)
        let services = requests[0].resourceSpans.map { $0["resource"]?.attribute("service.name")?.text }
        #expect(services == ["old-name", "new-name"])
        #expect(requests[0].spans.count == 2)
    }

    @Test func reloadKeepsExporterForSameEndpointAndReplacesIt() throws {
        let collector = try Collector()
        defer { collector.stop() }
        let first = Telemetry(config: otlpConfig(endpoint: collector.url), workers: 1, output: Self.devNull)
        let same = Telemetry(config: otlpConfig(endpoint: collector.url), workers: 1, previous: first)
        #expect(same.exporter === first.exporter)
        let off = Telemetry(config: otlpConfig(endpoint: nil), workers: 1, previous: same)
        #expect(off.exporter == nil)
        // The retired exporter refuses new spans (counted), it does not strand them.
        first.worker(0).requestFinished(sampledRecord())
        #expect(first.exporter?.droppedSpans == 1)
        off.stop()
    }
}
