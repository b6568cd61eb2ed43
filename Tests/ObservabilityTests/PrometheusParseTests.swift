import Foundation
import MeshGateway
import MeshHTTP1
import MeshOTLP
import Testing

/// The exposition checked by an independent parser: Python's `prometheus_client` (CI installs it).
struct PrometheusParseTests {
    static let script = """
        import sys
        try:
            from prometheus_client.parser import text_string_to_metric_families
        except ImportError:
            print("prometheus_client is not installed: python3 -m pip install prometheus_client")
            sys.exit(3)
        text = open(sys.argv[1]).read()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                print(sample.name)
        """

    @Test func expositionParsesWithPrometheusClient() throws {
        let telemetry = Telemetry(config: testConfig(accessLog: false), workers: 2, output: open("/dev/null", O_WRONLY))
        defer { telemetry.stop() }
        var r = RequestRecord()
        r.status = 200
        r.endNs = 2_000_000
        for i in 0..<100 { telemetry.worker(i % 2).requestFinished(r) }
        telemetry.worker(0).attemptFinished(upstream: 0, endpoint: 0, outcome: .success, durationSeconds: 0.004)
        telemetry.setJWKSAge(provider: "hmac", seconds: 1)
        let file = TempFile()
        defer { file.remove() }
        file.write(telemetry.metricsText())

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus != 3, "\(output)")
        try #require(process.terminationStatus == 0, "prometheus_client rejected the exposition:\n\(output)")
        let names = Set(output.split(separator: "\n").map(String.init))
        for name in GatewayMetrics.specNames {
            #expect(names.contains(name) || names.contains(name + "_count"), "no samples for \(name)")
        }
    }
}
