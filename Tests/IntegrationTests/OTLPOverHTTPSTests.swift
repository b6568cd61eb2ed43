import Foundation
import Glibc
import MeshTestSupport
import Testing

/// SPEC §9: `tracing.otlp_endpoint` may be `https://`, verified against `tracing.ca_file` (or the system store)
/// and the URL's host. The collector is Python's `http.server` behind its `ssl` module, with certificates the
/// `openssl` CLI made at test time (`TestPKI`): independent of MeshTLS on the server side.
@Suite struct OTLPOverHTTPSTests {
    static let pki = TestPKI.shared
    static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let parentID = "00f067aa0ba902b7"

    /// Records each POST as one JSON line on stdout (path, content type, body) and answers 200 `{}`. TLS
    /// handshakes that fail (a client that rejects the certificate) are dropped by socketserver.
    static let handler = """
            protocol_version = "HTTP/1.1"
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                print(json.dumps({"path": self.path, "content_type": self.headers.get("Content-Type"),
                                  "body": body.decode("utf-8", "replace")}), flush=True)
                answer = b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
        """

    /// The collector stand-in serving certificate pair `pair`, and its port.
    static func collector(pair: String, directory: String) throws -> (ChildProcess, UInt16) {
        try PythonHTTPSServer.start(
            handler: handler, cert: pki.path("\(pair).crt"), key: pki.path("\(pair).key"),
            outputPrefix: directory + "/collector")
    }

    /// The POSTs the collector recorded so far.
    static func posts(_ collector: ChildProcess) -> [[String: Any]] {
        collector.stdout.split(separator: "\n").dropFirst().compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    static func testbed(collectorPort: UInt16, ca: String) throws -> Testbed {
        try Testbed(upstreams: ["app": .echo]) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin,
                routes: [TestConfig.route("/", to: "app", #""name": "checkout""#)],
                upstreams: ["app": TestConfig.upstream([ports["app"]])],
                tracing: """
                    { "service_name": "edge-tls", "sample_ratio": 1.0,
                      "otlp_endpoint": "https://127.0.0.1:\(collectorPort)/v1/traces",
                      "ca_file": "\(pki.path("\(ca).crt"))" }
                    """)
        }
    }

    static func exportFailures(_ bed: Testbed) throws -> Double {
        PrometheusText.value(try bed.admin("/metrics").bodyText, "meshgate_otlp_export_failures_total") ?? -1
    }

    /// The gateway's first "otlp export failed" log line, polled for up to 5 s (log lines are written off the
    /// exporter thread, a moment after the failure is counted).
    static func failureLine(_ bed: Testbed) -> String {
        let deadline = TestSocket.nowMs() + 5000
        while true {
            let line = bed.gateway.stdout.split(separator: "\n").first { $0.contains("otlp export failed") }
            if let line { return String(line) }
            if TestSocket.nowMs() > deadline { return "" }
            usleep(20_000)
        }
    }

    /// A traced request through the gateway; returns when the gateway answered.
    static func tracedRequest(_ bed: Testbed) throws {
        let response = try bed.request(
            "GET", "/checkout/42", headers: "traceparent: 00-\(traceID)-\(parentID)-01\r\n")
        #expect(response.status == 200, "\(response)")
    }

    /// The SERVER span of the traced request in an OTLP/JSON export body, or nil.
    static func serverSpan(in body: String) -> [String: Any]? {
        guard let root = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else { return nil }
        let resources = root["resourceSpans"] as? [[String: Any]] ?? []
        let scopes = resources.flatMap { $0["scopeSpans"] as? [[String: Any]] ?? [] }
        let spans = scopes.flatMap { $0["spans"] as? [[String: Any]] ?? [] }
        return spans.first { $0["traceId"] as? String == traceID && $0["parentSpanId"] as? String == parentID }
    }

    @Test func spansReachACollectorVerifiedAgainstTheCAFile() throws {
        let directory = try GatewayProcess.makeTempDirectory()
        defer { GatewayProcess.removeDirectory(directory) }
        let (collector, port) = try Self.collector(pair: "localhost", directory: directory)
        defer { _ = collector.terminate(signal: SIGKILL) }
        let bed = try Self.testbed(collectorPort: port, ca: "ca")
        try Self.tracedRequest(bed)

        let deadline = TestSocket.nowMs() + 10_000
        var span: [String: Any]?
        var post: [String: Any]?
        while span == nil, TestSocket.nowMs() < deadline {
            post = Self.posts(collector).first { Self.serverSpan(in: $0["body"] as? String ?? "") != nil }
            span = post.flatMap { Self.serverSpan(in: $0["body"] as? String ?? "") }
            if span == nil { usleep(20_000) }
        }
        let server = try #require(span, "no span at the collector: \(collector.stdout)\n\(bed.gateway.stdout)")
        #expect(post?["path"] as? String == "/v1/traces")
        #expect(post?["content_type"] as? String == "application/json")
        #expect(server["kind"] as? Int == 2)
        #expect(server["name"] as? String == "GET /*")  // the route's pattern: prefix "/"
        let attributes = server["attributes"] as? [[String: Any]] ?? []
        let path = attributes.first { $0["key"] as? String == "url.path" }?["value"] as? [String: Any]
        #expect(path?["stringValue"] as? String == "/checkout/42")
        #expect(try Self.exportFailures(bed) == 0)
        #expect(!bed.gateway.stdout.contains("otlp export failed"), "\(bed.gateway.stdout)")
        #expect(bed.stop() == .exited(0))
    }

    @Test func aCollectorThatDoesNotVerifyGetsNoSpansAndCountsAFailure() throws {
        let directory = try GatewayProcess.makeTempDirectory()
        defer { GatewayProcess.removeDirectory(directory) }
        let (collector, port) = try Self.collector(pair: "localhost", directory: directory)
        defer { _ = collector.terminate(signal: SIGKILL) }
        // The collector's certificate chains to "ca"; the gateway trusts only "rogue-ca".
        let bed = try Self.testbed(collectorPort: port, ca: "rogue-ca")
        #expect(try Self.exportFailures(bed) == 0)
        try Self.tracedRequest(bed)

        let metrics = try bed.pollAdmin("/metrics", timeoutMs: 10_000) { response in
            (PrometheusText.value(response.bodyText, "meshgate_otlp_export_failures_total") ?? 0) >= 1
        }
        #expect((PrometheusText.value(metrics.bodyText, "meshgate_otlp_export_failures_total") ?? 0) >= 1)
        #expect(Self.posts(collector).isEmpty, "the collector got a POST: \(collector.stdout)")
        let text = Self.failureLine(bed)
        #expect(text.contains("TLS: peer certificate rejected"), "\(bed.gateway.stdout)")
        #expect(text.contains("127.0.0.1:\(port)"), "\(text)")
        #expect(bed.stop() == .exited(0))
    }

    @Test func aCertificateForAnotherNameIsRejectedToo() throws {
        let directory = try GatewayProcess.makeTempDirectory()
        defer { GatewayProcess.removeDirectory(directory) }
        // Pair "a" chains to the trusted CA but names only a.example.com, not 127.0.0.1.
        let (collector, port) = try Self.collector(pair: "a", directory: directory)
        defer { _ = collector.terminate(signal: SIGKILL) }
        let bed = try Self.testbed(collectorPort: port, ca: "ca")
        try Self.tracedRequest(bed)

        let metrics = try bed.pollAdmin("/metrics", timeoutMs: 10_000) { response in
            (PrometheusText.value(response.bodyText, "meshgate_otlp_export_failures_total") ?? 0) >= 1
        }
        #expect((PrometheusText.value(metrics.bodyText, "meshgate_otlp_export_failures_total") ?? 0) >= 1)
        #expect(Self.posts(collector).isEmpty, "the collector got a POST: \(collector.stdout)")
        #expect(Self.failureLine(bed).contains("TLS: peer certificate rejected"), "\(bed.gateway.stdout)")
        #expect(bed.stop() == .exited(0))
    }
}
