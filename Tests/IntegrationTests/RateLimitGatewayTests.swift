import Foundation
import Glibc
import MeshTestSupport
import Testing

/// SPEC §11 through the real gateway: a process-scope limit admits exactly its burst per key, answers the rest
/// 429 with the fields a client paces by, counts them; `max_in_flight` sheds the excess at once.
@Suite struct RateLimitGatewayTests {
    /// One route limited per `x-user` header: 0.5 requests/s (nothing refills during the test), burst 3.
    static func limitedBed(key: String = "header:x-user", listenerLimit: String = "", workers: Int = 1) throws
        -> Testbed
    {
        try Testbed(upstreams: ["app": .echo], workers: workers) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin,
                routes: [
                    TestConfig.route(
                        "/limited", to: "app",
                        #""name": "limited", "rate_limit": { "key": "\#(key)", "requests_per_second": 0.5, "burst": 3 }"#),
                    TestConfig.route("/", to: "app", #""name": "open""#),
                ],
                upstreams: ["app": TestConfig.upstream([ports["app"]])], listenerExtra: listenerLimit)
        }
    }

    @Test func eachKeyGetsItsBurstThen429WithTheFieldsToPaceBy() throws {
        let bed = try Self.limitedBed()
        defer { bed.stop() }
        var statuses: [Int] = []
        for _ in 0..<5 { statuses.append(try bed.request("GET", "/limited/a", headers: "x-user: alice\r\n").status) }
        #expect(statuses == [200, 200, 200, 429, 429])
        let denied = try bed.request("GET", "/limited/a", headers: "x-user: alice\r\n")
        #expect(denied.status == 429)
        #expect(denied.jsonString("error") == "rate_limited")
        #expect(denied.header("retry-after").flatMap { Int($0) }.map { $0 >= 1 } == true, "\(denied)")
        #expect(denied.header("ratelimit-policy") == #""limited";q=3;w=6"#, "\(denied)")
        #expect(denied.header("ratelimit")?.hasPrefix(#""limited";r=0;t="#) == true, "\(denied)")
        // Another key has its own bucket; another route is not limited; the upstream saw only admitted requests.
        #expect(try bed.request("GET", "/limited/a", headers: "x-user: bob\r\n").status == 200)
        for _ in 0..<5 { #expect(try bed.request("GET", "/open").status == 200) }
        #expect(bed["app"].requests.filter { $0.head.startLine[1].hasPrefix("/limited") }.count == 4)
        let metrics = try bed.admin("/metrics").bodyText
        #expect(metrics.contains(#"meshgate_rate_limited_total{route="limited"} 3"#), "\(metrics)")
        #expect(metrics.contains("meshgate_rate_limit_store_errors_total 0"))
        #expect(bed.stop() == .exited(0))
        let logged = JSONLog.lines(bed.gateway.child.stdout, message: "request")
        #expect(logged.filter { $0["rate_limited"] as? Bool == true }.count == 3)
        #expect(logged.filter { $0["status"] as? Int == 429 }.count == 3)
    }

    @Test func hugeAndManyDistinctKeysCostNothingButTheirTurn() throws {
        // A 48 KiB key is hashed, never stored; 2,000 distinct keys on a 100-key table churn it, the gateway stays.
        let bed = try Testbed(upstreams: ["app": .echo]) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin,
                routes: [TestConfig.route(
                    "/", to: "app",
                    #""name": "keyed", "rate_limit": { "key": "header:x-key", "requests_per_second": 0.5, "burst": 1, "max_keys": 100 }"#)],
                upstreams: ["app": TestConfig.upstream([ports["app"]])])
        }
        defer { bed.stop() }
        let huge = String(repeating: "k", count: 48 * 1024)
        #expect(try bed.request("GET", "/h", headers: "x-key: \(huge)\r\n").status == 200)
        #expect(try bed.request("GET", "/h", headers: "x-key: \(huge)\r\n").status == 429)
        let client = try bed.client()
        for i in 0..<2000 {
            let response = try client.request("GET /k HTTP/1.1\r\nHost: test.local\r\nx-key: key-\(i)\r\n\r\n")
            #expect(response.status == 200, "key-\(i)")
            if response.status != 200 { break }
        }
        #expect(bed.gateway.isRunning)
    }

    @Test func workersShareOneExactBucket() throws {
        // Many connections (spread over the gateway's workers) against one key: exactly the burst.
        let bed = try Self.limitedBed(key: "route", workers: 4)
        defer { bed.stop() }
        // Every request is written before any answer is read: they are in flight together, on every worker.
        let clients = try (0..<40).map { _ in try bed.client() }
        for client in clients { try client.send("GET /limited/x HTTP/1.1\r\nHost: test.local\r\n\r\n") }
        let all = try clients.map { try $0.readResponse().status }
        #expect(all.filter { $0 == 200 }.count == 3, "\(all)")
        #expect(all.filter { $0 == 429 }.count == 37, "\(all)")
    }

    @Test func aListenerLimitCountsEveryRouteAndComesFirst() throws {
        let bed = try Self.limitedBed(
            listenerLimit: #""rate_limit": { "key": "client_ip", "requests_per_second": 0.5, "burst": 2 }"#)
        defer { bed.stop() }
        #expect(try bed.request("GET", "/open").status == 200)
        #expect(try bed.request("GET", "/limited/a", headers: "x-user: carol\r\n").status == 200)
        let third = try bed.request("GET", "/open")
        #expect(third.status == 429)
        #expect(third.header("ratelimit-policy") == #""test";q=2;w=4"#, "\(third)")
    }

    @Test func maxInFlightShedsTheExcessAtOnce() throws {
        let bed = try Testbed(upstreams: ["app": .slow(delayMs: 1500, reply: UpstreamReply(body: "slow"))]) { ports in
            TestConfig.document(
                port: ports.listener,
                routes: [TestConfig.route("/", to: "app", #""timeout_ms": 5000"#)],
                upstreams: ["app": TestConfig.upstream([ports["app"]], #""max_in_flight": 1"#)])
        }
        defer { bed.stop() }
        let first = try bed.client(timeoutMs: 5000)
        try first.send("GET /slow HTTP/1.1\r\nHost: test.local\r\n\r\n")
        // Wait until the first request holds the slot (it reached the upstream).
        let deadline = TestSocket.nowMs() + 3000
        while bed["app"].requests.isEmpty && TestSocket.nowMs() < deadline { usleep(10_000) }
        let started = TestSocket.nowMs()
        let second = try bed.request("GET", "/fast")
        #expect(second.status == 503)
        #expect(second.jsonString("error") == "unavailable")
        #expect(TestSocket.nowMs() - started < 1000, "shed at once, not queued")
        #expect(try first.readResponse().status == 200)
        // The slot came back with the first response.
        #expect(try bed.request("GET", "/after").status == 200)
    }
}
