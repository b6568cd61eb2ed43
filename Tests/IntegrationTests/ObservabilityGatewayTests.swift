import Glibc
import MeshTestSupport
import Testing

/// SPEC §5–§6 through the real gateway: `/metrics` counts what was served and parses with the reference parser
/// (Python's `prometheus_client`), and a stuck log consumer never stops the proxy (lines are dropped and counted).
@Suite struct ObservabilityGatewayTests {
    static func testbed(stdoutToUnreadPipe: Bool = false) throws -> Testbed {
        try Testbed(upstreams: ["app": .echo], stdoutToUnreadPipe: stdoutToUnreadPipe) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin,
                routes: [TestConfig.route("/", to: "app", #""name": "api""#)],
                upstreams: ["app": TestConfig.upstream([ports["app"]])])
        }
    }

    /// Sends `count` GETs for `/items/<index><padding>` over `connections` keep-alive connections; returns how
    /// many were answered 200.
    static func load(_ bed: Testbed, count: Int, connections: Int = 1, padding: String = "") throws -> Int {
        var ok = 0
        let clients = try (0..<connections).map { _ in try bed.client() }
        for index in 0..<count {
            let request = "GET /items/\(index)\(padding) HTTP/1.1\r\nHost: t\r\n\r\n"
            let response = try clients[index % connections].request(request)
            if response.status == 200 { ok += 1 }
        }
        return ok
    }

    /// Parses `text` with `prometheus_client.parser` and prints `name{labels} value` per sample, sorted.
    static let parserScript = """
        import sys
        from prometheus_client.parser import text_string_to_metric_families
        out = []
        for family in text_string_to_metric_families(open(sys.argv[1]).read()):
            for s in family.samples:
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
                out.append(f"{s.name}{{{labels}}} {s.value:g}")
        print("\\n".join(sorted(out)))
        """

    /// Runs the reference parser on `metrics`; returns its exit status and output.
    static func parseWithPrometheusClient(_ metrics: String) throws -> (Termination, String, String) {
        let directory = try GatewayProcess.makeTempDirectory()
        defer { GatewayProcess.removeDirectory(directory) }
        try ChildProcess.writeFile(directory + "/metrics.txt", metrics)
        try ChildProcess.writeFile(directory + "/parse.py", parserScript)
        let child = try ChildProcess(
            path: "/usr/bin/env", arguments: ["python3", directory + "/parse.py", directory + "/metrics.txt"],
            outputPrefix: directory + "/python")
        let termination = child.wait(timeoutMs: 20_000) ?? child.terminate(signal: SIGKILL)
        return (termination, child.stdout, child.stderr)
    }

    @Test func metricsCountAHundredRequestsAndParseWithPrometheusClient() throws {
        let bed = try Self.testbed()
        #expect(try Self.load(bed, count: 100) == 100)
        #expect(bed["app"].requests.count == 100)
        let labels = ["listener": "test", "route": "api", "method": "GET", "code": "200"]
        // Recording may trail the response by a moment: poll (bounded) for the count, then check it exactly.
        let response = try bed.pollAdmin("/metrics") {
            PrometheusText.value($0.bodyText, "http_requests_total", labels) ?? 0 >= 100
        }
        let metrics = response.bodyText
        #expect(response.status == 200)
        #expect(response.header("content-type")?.hasPrefix("text/plain") == true, "\(response.head)")
        #expect(PrometheusText.value(metrics, "http_requests_total", labels) == 100, "\(metrics)")
        let routeLabels = ["listener": "test", "route": "api"]
        #expect(PrometheusText.value(metrics, "http_request_duration_seconds_count", routeLabels) == 100)
        #expect(PrometheusText.value(metrics, "http_request_duration_seconds_bucket",
                                     routeLabels.merging(["le": "+Inf"]) { $1 }) == 100)
        #expect(PrometheusText.sum(metrics, "meshgate_upstream_requests_total",
                                   ["upstream": "app", "outcome": "success"]) == 100)
        // No raw paths as label values (SPEC §6): 100 distinct paths must not make 100 series.
        #expect(!metrics.contains("/items/"), "a raw path became a label value")

        let (termination, parsed, errors) = try Self.parseWithPrometheusClient(metrics)
        #expect(termination == .exited(0), "prometheus_client rejected /metrics: \(errors)")
        let expected = [
            #"http_requests_total{code="200",listener="test",method="GET",route="api"} 100"#,
            #"http_request_duration_seconds_count{listener="test",route="api"} 100"#,
        ]
        for sample in expected { #expect(parsed.contains(sample), "parser output lacks \(sample):\n\(parsed)") }
        #expect(bed.stop() == .exited(0))
    }

    @Test func aStuckLogConsumerNeverStopsTheProxy() throws {
        // stdout is a pipe nobody reads: once the pipe (64 KiB) and the log rings (1 MiB per worker) are full,
        // every further line must be dropped, never waited for. Long paths make long lines, so that ~1000
        // requests overflow; batches continue (bounded) until the drop counter moves.
        let bed = try Self.testbed(stdoutToUnreadPipe: true)
        let padding = "/" + String(repeating: "p", count: 1500)
        var sent = 0
        var served = 0
        var dropped = 0.0
        while sent < 8000 && (sent < 1200 || dropped == 0) {
            do {
                served += try Self.load(bed, count: 400, connections: 4, padding: padding)
            } catch {
                Issue.record("""
                    after \(sent)+ requests: \(error); gateway running: \(bed.gateway.isRunning); \
                    upstream saw \(bed["app"].requests.count); stderr: \(bed.gateway.child.stderr.suffix(3000))
                    """)
                throw error
            }
            sent += 400
            dropped = PrometheusText.sum(try bed.admin("/metrics").bodyText, "meshgate_log_dropped_total")
        }
        #expect(served == sent)
        #expect(bed["app"].requests.count == sent)
        #expect(dropped > 0, "no log line dropped after \(sent) requests")
        let metrics = try bed.pollAdmin("/metrics") {
            PrometheusText.sum($0.bodyText, "http_requests_total", ["route": "api"]) >= Double(sent)
        }.bodyText
        #expect(PrometheusText.sum(metrics, "http_requests_total", ["route": "api"]) == Double(sent))
        #expect(try bed.admin("/healthz").status == 200)
        #expect(try bed.request("GET", "/still-there").status == 200)
        #expect(bed.stop() == .exited(0))
    }
}
