import Glibc
import MeshGateway
import MeshHTTP1
import MeshJSON
import MeshOTLP
import MeshProxy
import MeshTrace
import Testing

@Suite(.serialized) struct AccessLogTests {
    func lines(_ file: TempFile) throws -> [JSONNode] {
        try file.contents().split(separator: "\n").map { try JSONReader.parse(String($0)) }
    }

    @Test func requestLineHasEverySpecField() throws {
        let file = TempFile()
        defer { file.remove() }
        let telemetry = Telemetry(config: testConfig(), workers: 1, output: file.fd)
        var r = RequestRecord()
        r.listener = 0
        r.route = 0
        r.method = .put
        r.path = "/profile/7?access_token=SECRET-TOKEN&x=1"
        r.status = 502
        r.startNs = 5_000_000_000
        r.endNs = 5_012_345_678
        r.upstream = 0
        r.endpoint = 1
        r.attempts = 2
        r.bytesIn = 10
        r.bytesOut = 99
        r.error = .badGateway
        r.client = "10.1.2.3"
        r.trace = TraceID(high: 0x4bf9_2f35_77b3_4da6, low: 0xa3ce_929d_0e0e_4736)
        r.span = SpanID(0x00f0_67aa_0ba9_02b7)
        r.requestID = "req-1"
        #expect(telemetry.worker(0).accessLogEnabled)
        telemetry.worker(0).requestFinished(r)
        telemetry.stop()

        let all = try lines(file)
        #expect(all.count == 1)
        let line = try #require(all.first)
        let expected: [String: String] = [
            "level": "info", "service": "edge-gw", "msg": "request", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7",
            "request_id": "req-1", "listener": "edge", "route": "profile", "method": "PUT", "path": "/profile/7",
            "upstream": "profile", "endpoint": "127.0.0.1:9103", "client": "10.1.2.3", "error": "bad_gateway",
        ]
        for (key, value) in expected { #expect(line[key]?.stringValue == value, "\(key)") }
        #expect(line["status"]?.int64Value == 502)
        #expect(line["attempts"]?.int64Value == 2)
        #expect(line["bytes_in"]?.int64Value == 10)
        #expect(line["bytes_out"]?.int64Value == 99)
        #expect(line["duration_ms"]?.doubleValue == 12.346)
        let ts = try #require(line["ts"]?.stringValue)
        #expect(ts.count == 24 && ts.hasSuffix("Z") && ts.contains("T"))
        #expect(!file.contents().contains("SECRET"))
    }

    @Test func unmatchedRequestHasNullRouteAndNoError() throws {
        let file = TempFile()
        defer { file.remove() }
        let telemetry = Telemetry(config: testConfig(), workers: 1, output: file.fd)
        var r = RequestRecord()
        r.route = -1
        r.status = 200
        telemetry.worker(0).requestFinished(r)
        telemetry.stop()
        let line = try #require(try lines(file).first)
        #expect(line["route"]?.isNull == true && line["upstream"]?.isNull == true && line["endpoint"]?.isNull == true)
        #expect(line["error"] == nil)
        #expect(line["path"]?.stringValue == "")
    }

    @Test func accessLogOffAndLevelFilter() throws {
        let file = TempFile()
        defer { file.remove() }
        let telemetry = Telemetry(config: testConfig(level: "warn", accessLog: false), workers: 1, output: file.fd)
        #expect(!telemetry.worker(0).accessLogEnabled)
        telemetry.worker(0).requestFinished(RequestRecord())
        telemetry.event(.info, "started", [("workers", "1")])
        telemetry.event(.debug, "noise")
        telemetry.event(.warn, "breaker opened", [("upstream", "profile"), ("url", "/x?access_token=abc")])
        telemetry.event(.error, "reload failed")
        telemetry.stop()
        let all = try lines(file)
        #expect(all.map { $0["msg"]?.stringValue } == ["breaker opened", "reload failed"])
        #expect(all.first?["level"]?.stringValue == "warn")
        #expect(all.first?["upstream"]?.stringValue == "profile")
        #expect(all.first?["url"]?.stringValue == "/x?access_token=[REDACTED]")
    }

    @Test func breakerTransitionIsLogged() throws {
        let file = TempFile()
        defer { file.remove() }
        let telemetry = Telemetry(config: testConfig(), workers: 1, output: file.fd)
        telemetry.breakerTransition(upstream: 1, endpoint: 0, to: .open)
        telemetry.breakerTransition(upstream: 1, endpoint: 0, to: .halfOpen)
        telemetry.stop()
        let all = try lines(file)
        #expect(all.map { $0["level"]?.stringValue } == ["warn", "info"])
        #expect(all.map { $0["to"]?.stringValue } == ["open", "half_open"])
        #expect(all.first?["endpoint"]?.stringValue == "127.0.0.1:9104")
    }
}
