import Foundation
import Glibc
import MeshTestSupport
import Testing

/// SPEC §5 through the real gateway: W3C Trace Context (`traceparent`/`tracestate`), `x-request-id`, and the
/// access-log line that ties them together. The echo upstream records what was forwarded.
@Suite struct TraceContextGatewayTests {
    static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let parentID = "00f067aa0ba902b7"

    static func testbed(tracing: String = "{}") throws -> Testbed {
        try Testbed(upstreams: ["app": .echo]) { ports in
            TestConfig.document(
                port: ports.listener, routes: [TestConfig.route("/", to: "app", #""name": "traced""#)],
                upstreams: ["app": TestConfig.upstream([ports["app"]])], tracing: tracing)
        }
    }

    /// The parts of a well-formed version-00 `traceparent` (W3C Trace Context §3.2), or nil.
    static func parse(_ value: String?) -> (trace: String, parent: String, flags: String)? {
        guard let value else { return nil }
        let parts = value.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        let hex = Set("0123456789abcdef")
        guard parts.count == 4, parts[0] == "00", parts[1].count == 32, parts[2].count == 16, parts[3].count == 2,
            parts.allSatisfy({ $0.allSatisfy(hex.contains) }),
            parts[1] != String(repeating: "0", count: 32), parts[2] != String(repeating: "0", count: 16)
        else { return nil }
        return (parts[1], parts[2], parts[3])
    }

    /// The access-log line (a JSON object on the gateway's stdout) whose `request_id` is `id`, polled with a bound
    /// because log lines are written off the event loop.
    static func accessLogLine(_ bed: Testbed, requestID id: String) -> [String: Any]? {
        let deadline = TestSocket.nowMs() + 5000
        while true {
            for line in bed.gateway.stdout.split(separator: "\n") {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                    continue
                }
                if object["request_id"] as? String == id { return object }
            }
            if TestSocket.nowMs() > deadline { return nil }
            usleep(10_000)
        }
    }

    @Test func aValidTraceparentKeepsItsTraceAndGetsANewSpan() throws {
        let bed = try Self.testbed()
        let requestID = "it-trace-0001"
        let response = try bed.request("GET", "/orders?access_token=SECRET-TOKEN-123&id=7", headers: """
            traceparent: 00-\(Self.traceID)-\(Self.parentID)-01\r
            tracestate: congo=t61rcWkgMzE,rojo=00f067aa0ba902b7\r
            x-request-id: \(requestID)\r

            """)
        #expect(response.status == 200)
        #expect(response.header("x-request-id") == requestID)
        let head = try #require(bed["app"].requests.first?.head)
        let forwarded = try #require(Self.parse(head.header("traceparent")), "\(head.text)")
        #expect(forwarded.trace == Self.traceID)
        #expect(forwarded.parent != Self.parentID, "the gateway must add its own span")
        #expect(forwarded.flags == "01")
        #expect(head.headers("traceparent").count == 1)
        #expect(head.header("tracestate") == "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")
        #expect(head.headers("x-request-id") == [requestID])

        let line = try #require(
            Self.accessLogLine(bed, requestID: requestID), "no access log line:\n\(bed.gateway.stdout)")
        #expect(line["trace_id"] as? String == Self.traceID, "\(line)")
        #expect(line["span_id"] as? String == forwarded.parent, "\(line)")
        #expect(line["route"] as? String == "traced")
        #expect(line["method"] as? String == "GET")
        #expect((line["status"] as? NSNumber)?.intValue == 200)
        #expect((line["path"] as? String)?.hasPrefix("/orders") == true, "\(line)")
        #expect(!bed.gateway.stdout.contains("SECRET-TOKEN-123"), "an access_token reached the log")
        for field in ["ts", "level", "service", "msg", "listener", "duration_ms", "upstream", "endpoint", "attempts",
                      "bytes_in", "bytes_out", "client"] {
            #expect(line[field] != nil, "access log line lacks \(field): \(line)")
        }
        #expect(bed.stop() == .exited(0))
    }

    static let invalidTraceparents = [
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",  // uppercase
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // all-zero trace-id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // all-zero parent-id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version ff
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  // short trace-id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",  // no flags
        "garbage",
    ]

    @Test(arguments: invalidTraceparents)
    func anInvalidTraceparentStartsANewTrace(_ incoming: String) throws {
        let bed = try Self.testbed()
        let response = try bed.request(
            "GET", "/x", headers: "traceparent: \(incoming)\r\ntracestate: congo=t61rcWkgMzE\r\n")
        #expect(response.status == 200)
        let head = try #require(bed["app"].requests.first?.head)
        let forwarded = try #require(Self.parse(head.header("traceparent")), "\(head.text)")
        #expect(!incoming.lowercased().contains(forwarded.trace), "kept an invalid trace: \(head.text)")
        #expect(head.headers("traceparent").count == 1)
        #expect(head.header("tracestate") == nil, "tracestate on a new trace must be dropped: \(head.text)")
        #expect(bed.stop() == .exited(0))
    }

    @Test func anOversizedTracestateIsDropped() throws {
        // W3C Trace Context §3.3.1: at most 32 list members; a longer list is invalid and not forwarded.
        let bed = try Self.testbed()
        let members = (0..<33).map { "v\($0)=x" }.joined(separator: ",")
        let valid = (0..<32).map { "v\($0)=x" }.joined(separator: ",")
        for state in [members, valid] {
            let response = try bed.request(
                "GET", "/x", headers: "traceparent: 00-\(Self.traceID)-\(Self.parentID)-01\r\ntracestate: \(state)\r\n")
            #expect(response.status == 200)
        }
        let seen = bed["app"].requests.map { $0.head.header("tracestate") }
        #expect(seen == [nil, valid], "\(seen)")
        #expect(bed.stop() == .exited(0))
    }

    @Test(arguments: [0.0, 1.0])
    func newTracesAreSampledPerSampleRatio(ratio: Double) throws {
        let bed = try Self.testbed(tracing: #"{ "sample_ratio": \#(ratio) }"#)
        for index in 0..<5 { #expect(try bed.request("GET", "/s/\(index)").status == 200) }
        // A continued trace keeps the caller's decision whatever the ratio.
        let incoming = "traceparent: 00-\(Self.traceID)-\(Self.parentID)-01\r\n"
        let continued = try bed.request("GET", "/c", headers: incoming)
        #expect(continued.status == 200)
        let flags = bed["app"].requests.compactMap { Self.parse($0.head.header("traceparent")) }
            .map { (UInt8($0.flags, radix: 16) ?? 0xff) & 1 }
        let sampled: UInt8 = ratio >= 1 ? 1 : 0
        #expect(flags == Array(repeating: sampled, count: 5) + [1], "sampled bits: \(flags)")
        #expect(bed.stop() == .exited(0))
    }

    @Test func twoTraceparentLinesStartANewTrace() throws {
        let bed = try Self.testbed()
        let other = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        let response = try bed.request("GET", "/x", headers: """
            traceparent: 00-\(Self.traceID)-\(Self.parentID)-01\r
            traceparent: \(other)\r

            """)
        #expect(response.status == 200)
        let head = try #require(bed["app"].requests.first?.head)
        let forwarded = try #require(Self.parse(head.header("traceparent")), "\(head.text)")
        #expect(head.headers("traceparent").count == 1, "\(head.text)")
        #expect(forwarded.trace != Self.traceID && !other.contains(forwarded.trace), "\(head.text)")
        #expect(bed.stop() == .exited(0))
    }

    @Test func aHigherVersionIsReadByItsFirstFourFields() throws {
        let bed = try Self.testbed()
        let response = try bed.request(
            "GET", "/x", headers: "traceparent: 01-\(Self.traceID)-\(Self.parentID)-01-future-stuff\r\n")
        #expect(response.status == 200)
        let forwarded = try #require(Self.parse(bed["app"].requests.first?.head.header("traceparent")))
        #expect(forwarded.trace == Self.traceID)
        #expect(bed.stop() == .exited(0))
    }

    @Test func requestIDsAreGeneratedWhenAbsentOrInsane() throws {
        let bed = try Self.testbed()
        let longest = String(repeating: "k", count: 128)
        let kept = try bed.request("GET", "/kept", headers: "x-request-id: \(longest)\r\n")
        #expect(kept.header("x-request-id") == longest, "128 visible characters are sane")
        #expect(bed["app"].requests.first?.head.headers("x-request-id") == [longest])
        let insane = String(repeating: "x", count: 129)
        for (index, header) in ["", "x-request-id: \(insane)\r\n", "x-request-id: has space\r\n"].enumerated() {
            let response = try bed.request("GET", "/r/\(index)", headers: header)
            #expect(response.status == 200)
            let returned = try #require(response.header("x-request-id"), "request \(index): \(response)")
            #expect(!returned.isEmpty && returned != insane && returned != "has space")
            let seen = bed["app"].requests.last?.head.headers("x-request-id")
            #expect(seen == [returned], "forwarded \(seen ?? []) but returned \(returned)")
        }
        let ids = bed["app"].requests.dropFirst().compactMap { $0.head.header("x-request-id") }
        #expect(Set(ids).count == 3, "generated ids must differ: \(ids)")
        #expect(bed.stop() == .exited(0))
    }

    @Test func gatewayErrorsCarryTheRequestIDToo() throws {
        let bed = try Self.testbed()
        let response = try bed.request("GET", "/a/../../x", headers: "x-request-id: it-error-42\r\n")
        #expect(response.status == 400, "\(response)")
        #expect(response.header("x-request-id") == "it-error-42")
        #expect(response.jsonString("request_id") == "it-error-42")
        #expect(bed.upstreams["app"]?.requests.isEmpty == true)
        let line = try #require(Self.accessLogLine(bed, requestID: "it-error-42"), "\(bed.gateway.stdout)")
        #expect((line["status"] as? NSNumber)?.intValue == 400)
        #expect(line["error"] as? String == "bad_request", "\(line)")
        #expect(bed.stop() == .exited(0))
    }
}
