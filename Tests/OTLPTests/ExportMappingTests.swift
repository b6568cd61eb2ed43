import Glibc
import MeshGateway
import MeshJSON
import MeshOTLP
import MeshProxy
import MeshResilience
import MeshTrace
import Testing

/// What the collector receives for sampled requests: the OTLP/JSON shape, ids, times, attributes, status, and the
/// CLIENT spans of upstream attempts under the SERVER span.
@Suite(.serialized) struct ExportMappingTests {
    static let devNull = open("/dev/null", O_WRONLY | O_CLOEXEC)

    /// A continued trace, a 502 produced by the gateway after two failed attempts.
    func failedRequest() -> RequestRecord {
        var r = sampledRecord(7)
        r.route = 1
        r.method = .post
        r.path = "/users/42/followers"
        r.status = 502
        r.error = .badGateway
        r.attempts = 2
        r.endpoint = 1
        r.host = "api.example.com"
        r.parentSpan = SpanID(0x00f0_67aa_0ba9_02b7)
        r.spanAttempts.append(
            OTLPAttempt(
                upstream: 0, endpoint: 0, startNs: r.startNs + 100_000, endNs: r.startNs + 600_000, status: 0,
                outcome: .connectFailure, span: SpanID(0x1111_2222_3333_4444)))
        r.spanAttempts.append(
            OTLPAttempt(
                upstream: 0, endpoint: 1, startNs: r.startNs + 700_000, endNs: r.startNs + 2_900_000, status: 503,
                outcome: .http5xx))
        return r
    }

    @Test func sampledRequestBecomesServerSpanWithAttemptChildren() throws {
        let collector = try Collector()
        defer { collector.stop() }
        let telemetry = Telemetry(
            config: otlpConfig(endpoint: collector.url), workers: 1, output: Self.devNull, otlp: fastOptions())
        defer { telemetry.stop() }
        #expect(telemetry.worker(0).spanExportEnabled)
        telemetry.worker(0).requestFinished(failedRequest())
        #expect(Collector.eventually { !collector.received.isEmpty })

        let request = try ExportRequest(collector.received[0])
        #expect(request.resourceSpans.count == 1)
        let resource = try #require(request.resourceSpans.first?["resource"])
        #expect(resource.attribute("service.name")?.kind == "stringValue")
        #expect(resource.attribute("service.name")?.text == "edge-gw")
        let scope = try #require(request.resourceSpans.first?["scopeSpans"]?.arrayValue?.first)
        #expect(scope["scope"]?["name"]?.stringValue == "meshgate")

        let spans = request.spans
        try #require(spans.count == 3)
        let server = spans[0]
        #expect(server["traceId"]?.stringValue == "0af7651916cd43dd8448eb211c803107")
        #expect(server["spanId"]?.stringValue == "b7ad6b7169200007")
        #expect(server["parentSpanId"]?.stringValue == "00f067aa0ba902b7")
        #expect(server["name"]?.stringValue == "POST /users/{id}/followers")
        #expect(server["kind"]?.int64Value == 2)
        #expect(server["startTimeUnixNano"]?.stringValue == "1700000000000000000")
        #expect(server["endTimeUnixNano"]?.stringValue == "1700000000003000000")
        #expect(server.attribute("http.request.method")?.text == "POST")
        #expect(server.attribute("url.path")?.text == "/users/42/followers")
        #expect(server.attribute("http.response.status_code").map { "\($0.kind)=\($0.text)" } == "intValue=502")
        #expect(server.attribute("server.address")?.text == "api.example.com")
        #expect(server.attribute("network.peer.address")?.text == "10.0.0.7")
        #expect(server.attribute("http.route")?.text == "/users/{id}/followers")
        #expect(server.attribute("meshgate.attempts").map { "\($0.kind)=\($0.text)" } == "intValue=2")
        #expect(server.attribute("meshgate.route")?.text == "followers")
        #expect(server.attribute("meshgate.endpoint")?.text == "127.0.0.1:9103")
        #expect(server.attribute("meshgate.request_id")?.text == "req-7")
        #expect(server.attribute("error.type")?.text == "bad_gateway")
        #expect(server["status"]?["code"]?.int64Value == 2)

        for (i, attempt) in spans[1...].enumerated() {
            #expect(attempt["traceId"]?.stringValue == server["traceId"]?.stringValue)
            #expect(attempt["parentSpanId"]?.stringValue == server["spanId"]?.stringValue)
            #expect(attempt["kind"]?.int64Value == 3)
            #expect(attempt["name"]?.stringValue == "POST profile")
            #expect(attempt["status"]?["code"]?.int64Value == 2)
            #expect(attempt.attribute("server.address")?.text == "127.0.0.1")
            #expect(attempt.attribute("server.port")?.text == (i == 0 ? "9102" : "9103"))
            #expect(attempt.attribute("meshgate.upstream")?.text == "profile")
        }
        #expect(spans[1]["spanId"]?.stringValue == "1111222233334444")
        #expect(spans[1]["startTimeUnixNano"]?.stringValue == "1700000000000100000")
        #expect(spans[1]["endTimeUnixNano"]?.stringValue == "1700000000000600000")
        #expect(spans[1].attribute("meshgate.outcome")?.text == "connect_failure")
        #expect(spans[1].attribute("http.response.status_code") == nil)
        #expect(spans[1].attribute("http.request.resend_count") == nil)
        // The second attempt came without a span-id: the exporter drew one (16 lowercase hex digits, not zero).
        let drawn = try #require(spans[2]["spanId"]?.stringValue)
        #expect(drawn.count == 16 && drawn != "0000000000000000")
        #expect(drawn.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(drawn != server["spanId"]?.stringValue)
        #expect(spans[2].attribute("http.response.status_code")?.text == "503")
        #expect(spans[2].attribute("http.request.resend_count")?.text == "1")
        #expect(spans[2].attribute("meshgate.outcome")?.text == "http_5xx")
    }

    @Test func newTraceOmitsParentAndDerivesWallClockFromMonotonic() throws {
        let collector = try Collector()
        defer { collector.stop() }
        let telemetry = Telemetry(
            config: otlpConfig(endpoint: collector.url), workers: 1, output: Self.devNull, otlp: fastOptions())
        defer { telemetry.stop() }
        var r = sampledRecord(3)
        r.startUnixNs = 0
        r.startNs = clinux_now()
        r.endNs = r.startNs + 1_500_000
        telemetry.worker(0).requestFinished(r)
        #expect(Collector.eventually { !collector.received.isEmpty })

        let spans = try ExportRequest(collector.received[0]).spans
        try #require(spans.count == 1)
        let span = spans[0]
        #expect(span["parentSpanId"] == nil)
        #expect(span["name"]?.stringValue == "GET /profile/*")
        #expect(span["status"]?["code"]?.int64Value == 0)
        #expect(span.attribute("error.type") == nil)
        #expect(span.attribute("server.address") == nil)
        let start = try #require(span["startTimeUnixNano"]?.stringValue.flatMap { Int64($0) })
        let end = try #require(span["endTimeUnixNano"]?.stringValue.flatMap { Int64($0) })
        #expect(end - start == 1_500_000)
        // Same instant as the wall clock now, give or take an hour (a sanity bound, not a timing assertion).
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let wall = Int64(ts.tv_sec) * 1_000_000_000
        #expect(abs(start - wall) < 3_600 * 1_000_000_000)
    }

    @Test func unsampledRequestsAreNotExported() throws {
        let collector = try Collector()
        defer { collector.stop() }
        let telemetry = Telemetry(
            config: otlpConfig(endpoint: collector.url), workers: 1, output: Self.devNull, otlp: fastOptions())
        defer { telemetry.stop() }
        // Unsampled first: were they queued, they would arrive no later than the sampled one behind them.
        for n in 1...5 { telemetry.worker(0).requestFinished(sampledRecord(UInt64(n), sampled: false)) }
        telemetry.worker(0).requestFinished(sampledRecord(9))
        #expect(Collector.eventually { telemetry.exporter?.exportedSpans == 1 })
        let traceIDs = try collector.received.flatMap { try ExportRequest($0).spans }.map { $0["traceId"]?.stringValue }
        #expect(traceIDs == ["0af7651916cd43dd8448eb211c803109"])
        #expect(telemetry.exporter?.droppedSpans == 0)
    }

    @Test func noExporterWithoutEndpoint() {
        let telemetry = Telemetry(config: otlpConfig(endpoint: nil), workers: 1, output: Self.devNull)
        defer { telemetry.stop() }
        #expect(telemetry.exporter == nil)
        #expect(!telemetry.worker(0).spanExportEnabled)
        telemetry.worker(0).requestFinished(sampledRecord())
        let text = telemetry.metricsText()
        #expect(text.contains("\nmeshgate_otlp_spans_dropped_total 0\n"))
        #expect(text.contains("\nmeshgate_otlp_export_failures_total 0\n"))
    }
}

/// CLOCK_MONOTONIC nanoseconds, like the exchange's `startNs`.
func clinux_now() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}
