import Foundation
import Testing

@testable import MeshMetrics

/// Validates the exposition with the reference parser, Python's `prometheus_client`
/// (`pip install prometheus_client`; CI installs it). A missing parser is a failure, not a skip.
@Suite struct ExpositionParserTests {
    static let script = """
        import sys
        try:
            from prometheus_client.parser import text_string_to_metric_families
        except ImportError:
            print("MISSING prometheus_client: pip install prometheus_client")
            sys.exit(3)
        text = sys.stdin.read()
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                labels = ",".join(f"{k}={v}".replace("\\n", "<NL>") for k, v in sorted(s.labels.items()))
                print(f"{family.type}|{s.name}|{labels}|{float(s.value)!r}")
        """

    /// Runs the parser over `text`; returns its exit status and output lines.
    static func parse(_ text: String) throws -> (Int32, [String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        return (process.terminationStatus, lines)
    }

    @Test func prometheusClientParsesTheExposition() throws {
        var builder = MetricsRegistryBuilder()
        let requests = CounterFamily("http_requests_total", help: "Requests.", labelNames: ["route", "code"])
        let status = try builder.statusCounter(requests, labels: ["we\"ird\\route\nx"])
        let latency = try builder.histogram(
            HistogramFamily(
                "latency_seconds", help: "Latency \\ with \"quotes\".", labelNames: ["route"],
                buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
            labels: ["a"])
        let gauge = try builder.gauge(GaugeFamily("temp_celsius", help: "Temp."), labels: [])
        try builder.callbackCounter(CounterFamily("process_cpu_seconds_total", help: "CPU."), labels: []) { 0.125 }
        let registry = builder.build(shards: 3)
        registry.shards[0].add(status, status: 200, 5)
        registry.shards[2].add(status, status: 200, 1)
        registry.shards[1].add(status, status: 502)
        registry.shards[0].observe(latency, 0.0005)
        registry.shards[1].observe(latency, 0.3)
        registry.shards[2].observe(latency, 11)
        registry.set(gauge, -2.5)

        let (status_, lines) = try Self.parse(registry.exposition())
        try #require(status_ == 0, "prometheus_client parser failed or missing: \(lines)")
        #expect(lines.contains("counter|http_requests_total|code=200,route=we\"ird\\route<NL>x|6.0"))
        #expect(lines.contains("counter|http_requests_total|code=502,route=we\"ird\\route<NL>x|1.0"))
        #expect(lines.contains("histogram|latency_seconds_bucket|le=0.0005,route=a|1.0"))
        #expect(lines.contains("histogram|latency_seconds_bucket|le=0.25,route=a|1.0"))
        #expect(lines.contains("histogram|latency_seconds_bucket|le=0.5,route=a|2.0"))
        #expect(lines.contains("histogram|latency_seconds_bucket|le=+Inf,route=a|3.0"))
        #expect(lines.contains("histogram|latency_seconds_count|route=a|3.0"))
        #expect(lines.contains("histogram|latency_seconds_sum|route=a|11.3005"))
        #expect(lines.contains("gauge|temp_celsius||-2.5"))
        #expect(lines.contains("counter|process_cpu_seconds_total||0.125"))
        #expect(lines.count == 2 + 15 + 2 + 1 + 1, "\(lines)")
    }
}
