import Foundation
import Glibc
import MeshTestSupport
import Testing

/// SPEC §3 deadlines and the pool: every request answers within its route's `timeout_ms` (plus a margin)
/// whatever the upstream does, `x-meshgate-deadline-ms` tells the upstream what is left, and `max_connections`
/// makes excess requests wait (then 503).
@Suite struct ResilienceDeadlineTests {
    /// Upstreams that misbehave in every way a test upstream can.
    static let misbehaving: [(String, UpstreamBehavior?)] = [
        ("never answers", .neverAnswer),
        ("answers after 10 s", .slow(delayMs: 10_000, reply: UpstreamReply(body: "late"))),
        ("resets at once", .reset(partial: [])),
        ("resets mid-head", .reset(partial: Array("HTTP/1.1 200 OK\r\nContent-Le".utf8))),
        ("sends garbage", .raw(Array("NOT HTTP AT ALL\r\n\r\n".utf8))),
        ("refuses connections", nil),
        ("stalls mid-head", .stall(partial: Array("HTTP/1.1 200 OK\r\nContent-Le".utf8))),
    ]

    @Test(arguments: 0..<7)
    func everyRequestAnswersWithinTheRouteTimeout(index: Int) throws {
        let (name, behavior) = Self.misbehaving[index]
        let refused = try TestUpstream.refusedPort()
        let bed = try Testbed(upstreams: behavior.map { ["app": $0] } ?? [:]) { ports in
            TestConfig.document(
                port: ports.listener,
                routes: [TestConfig.route("/", to: "app", #""timeout_ms": 400"#)],
                upstreams: ["app": TestConfig.upstream(
                    [ports.upstreams["app"] ?? refused], #""circuit_breaker": { "consecutive_failures": 100 }"#)])
        }
        for attempt in 0..<2 {
            let started = TestSocket.nowMs()
            let response = try bed.request("GET", "/x/\(attempt)")
            let elapsed = TestSocket.nowMs() - started
            #expect([502, 504].contains(response.status), "\(name): \(response)")
            #expect(response.jsonString("request_id")?.isEmpty == false, "\(name): \(response)")
            // The bound is the route's 400 ms plus a generous margin for a loaded machine.
            #expect(elapsed < 400 + 2000, "\(name): answered after \(elapsed) ms")
        }
        // Default retries: at most 3 attempts per request reached the upstream.
        if let upstream = bed.upstreams["app"] { #expect(upstream.requests.count <= 6, "\(name)") }
        #expect(bed.stop() == .exited(0))
    }

    // Bug (reported): once the response head went to the client, a body that stalls is never cut: the client
    // waits forever (here: until its own 3 s read timeout), although timeout_ms covers the whole exchange.
    @Test func aBodyThatStallsIsCutAtTheRouteTimeout() throws {
        // `timeout_ms` covers the whole exchange (SPEC §3): a head then silence must not hold the client forever.
        let stalled = Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789".utf8)
        let bed = try Testbed(upstreams: ["app": .stall(partial: stalled)]) { ports in
            TestConfig.document(
                port: ports.listener,
                routes: [TestConfig.route("/", to: "app", #""timeout_ms": 400"#)],
                upstreams: ["app": TestConfig.upstream([ports["app"]])], limits: #"{ "drain_timeout_ms": 500 }"#)
        }
        let client = try bed.client(timeoutMs: 3000)
        let started = TestSocket.nowMs()
        try client.send("GET /x HTTP/1.1\r\nHost: test.local\r\n\r\n")
        var outcome = "complete"
        do {
            let response = try client.readResponse()
            outcome = "complete response \(response.status) with \(response.bodyCount) body bytes"
        } catch {
            outcome = "\(error)"
        }
        let elapsed = TestSocket.nowMs() - started
        #expect(!outcome.hasPrefix("complete"), "a cut-off body was delivered as complete: \(outcome)")
        #expect(!outcome.contains("timed out"), "the gateway never ended the stalled response: \(outcome)")
        #expect(elapsed < 400 + 2000, "ended after \(elapsed) ms: \(outcome)")
        #expect(bed["app"].requests.count == 1)
        // Otherwise the exchange is still in flight and draining waits for it (up to drain_timeout_ms).
        client.close()
        #expect(bed.stop() == .exited(0))
    }

    // Regression: resil — a client that went away while the gateway waited for the upstream's answer kept the
    // upstream connection busy until timeout_ms (and a drain waited for the orphan).
    //
    // A reset (RST) means nobody is left to answer: the exchange is dropped at once. A FIN alone is a
    // half-close (the client may still read the answer, STYLE "Traps"), so the exchange lives on, but no
    // longer than the route's timeout_ms.
    @Test(arguments: [false, true])
    func aClientThatGoesAwayReleasesItsUpstreamConnection(withReset: Bool) throws {
        let timeout = withReset ? 10_000 : 1500
        let bed = try Testbed(upstreams: ["app": .neverAnswer]) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin,
                routes: [TestConfig.route("/", to: "app", "\"timeout_ms\": \(timeout)")],
                upstreams: ["app": TestConfig.upstream([ports["app"]])], limits: #"{ "drain_timeout_ms": 500 }"#)
        }
        func active(_ response: HTTPResponse) -> Int? {
            let upstreams = response.jsonObject?["upstreams"] as? [[String: Any]]
            let endpoint = (upstreams?.first?["endpoints"] as? [[String: Any]])?.first
            return (endpoint?["active"] as? NSNumber)?.intValue
        }
        let client = try bed.client()
        try client.send("GET /x HTTP/1.1\r\nHost: test.local\r\n\r\n")
        bed["app"].waitForRequests(1)
        #expect(active(try bed.admin("/upstreams")) == 1)
        if withReset { client.reset() } else { client.close() }
        // RST: well before the 10 s route timeout. FIN: after the 1.5 s route timeout, with room for a busy host.
        let after = try bed.pollAdmin("/upstreams", timeoutMs: withReset ? 3000 : 6000) { active($0) == 0 }
        #expect(active(after) == 0, "still busy after the client left: \(after.bodyText)")
        #expect(Poll.until(timeoutMs: 2000) { bed["app"].openConnectionCount == 0 }, "the upstream connection is still open")
        #expect(bed["app"].requests.count == 1)
        #expect(bed.stop() == .exited(0))
    }

    @Test func theUpstreamSeesTheDeadlineLeft() throws {
        // The first try gets a 503 and is retried: each attempt carries what was left when it was sent.
        let bed = try Testbed(upstreams: ["app": .failThenSucceed(failures: 1)]) { ports in
            TestConfig.document(
                port: ports.listener,
                routes: [TestConfig.route("/", to: "app", #""timeout_ms": 2000"#)],
                upstreams: ["app": TestConfig.upstream([ports["app"]])])
        }
        let response = try bed.request("GET", "/x")
        #expect(response.status == 200)
        let seen = bed["app"].requests
        #expect(seen.count == 2)
        let deadlines = seen.map { $0.head.headers("x-meshgate-deadline-ms") }
        #expect(deadlines.allSatisfy { $0.count == 1 }, "\(deadlines)")
        let values = deadlines.compactMap { $0.first.flatMap { Int($0) } }
        #expect(values.count == 2 && values.allSatisfy { (1...2000).contains($0) }, "\(deadlines)")
        #expect(values.count == 2 && values[1] <= values[0], "the retry was sent later: \(values)")
        #expect(bed.stop() == .exited(0))
    }

    @Test func theRouteTimeoutRunsFromTheEndOfTheRequest() throws {
        // A slow uploader is not the upstream's fault: the 200 ms start only once the body is complete.
        let bed = try Testbed(upstreams: ["app": .echo]) { ports in
            TestConfig.document(
                port: ports.listener,
                routes: [TestConfig.route("/", to: "app", #""timeout_ms": 200"#)],
                upstreams: ["app": TestConfig.upstream([ports["app"]])])
        }
        let client = try bed.client()
        try client.send("POST /upload HTTP/1.1\r\nHost: test.local\r\nContent-Length: 10\r\n\r\n01234")
        // Wait (bounded) until the head and the first half went upstream, then model a slow client: the pause
        // is what is being tested, not a wait for readiness.
        let deadline = TestSocket.nowMs() + 5000
        while bed["app"].bytesReceived < 5 && TestSocket.nowMs() < deadline { usleep(2000) }
        usleep(600_000)
        try client.send("56789")
        let response = try client.readResponse(method: "POST")
        #expect(response.status == 200, "\(response)")
        #expect(bed["app"].requests.map(\.bodyText) == ["0123456789"])
        #expect(bed.stop() == .exited(0))
    }

    // Bug (reported): a client's own `x-meshgate-deadline-ms` is forwarded next to the gateway's, first, so an
    // upstream that reads the first value trusts a deadline the client made up.
    @Test func aClientsDeadlineHeaderIsReplacedNotForwarded() throws {
        let bed = try Testbed(upstreams: ["app": .echo]) { ports in
            TestConfig.document(
                port: ports.listener,
                routes: [TestConfig.route("/", to: "app", #""timeout_ms": 2000"#)],
                upstreams: ["app": TestConfig.upstream([ports["app"]])])
        }
        let response = try bed.request("GET", "/x", headers: "X-Meshgate-Deadline-Ms: 999999\r\n")
        #expect(response.status == 200)
        let seen = bed["app"].requests.first?.head.headers("x-meshgate-deadline-ms") ?? []
        #expect(seen.count == 1 && seen.allSatisfy { (Int($0) ?? 0) <= 2000 }, "upstream saw \(seen)")
        #expect(bed.stop() == .exited(0))
    }

    /// Two routes to one upstream whose pool holds one connection: `/slow` may wait 5 s, `/quick` only 200 ms.
    static func pooled(_ behavior: UpstreamBehavior) throws -> Testbed {
        try Testbed(upstreams: ["app": behavior]) { ports in
            TestConfig.document(
                port: ports.listener,
                routes: [
                    TestConfig.route("/quick", to: "app", #""timeout_ms": 200, "retry": { "retries": 0 }"#),
                    TestConfig.route("/", to: "app", #""timeout_ms": 5000, "retry": { "retries": 0 }"#),
                ],
                upstreams: ["app": TestConfig.upstream(
                    [ports["app"]], #""pool": { "max_connections": 1, "max_idle": 1 }"#)])
        }
    }

    @Test func aSecondRequestWaitsForThePoolsOnlyConnection() throws {
        let bed = try Self.pooled(.slow(delayMs: 300, reply: UpstreamReply(body: "done")))
        let first = try bed.client()
        let second = try bed.client()
        try first.send("GET /slow/1 HTTP/1.1\r\nHost: test.local\r\n\r\n")
        bed["app"].waitForRequests(1)
        try second.send("GET /slow/2 HTTP/1.1\r\nHost: test.local\r\n\r\n")
        let answers = [try first.readResponse(), try second.readResponse()]
        #expect(answers.map(\.status) == [200, 200], "\(answers)")
        #expect(answers.map(\.bodyText) == ["done", "done"])
        let seen = bed["app"].requests
        #expect(seen.map(\.target) == ["/slow/1", "/slow/2"], "the second was sent only after the first")
        #expect(bed["app"].connectionCount == 1, "max_connections 1 was exceeded")
        #expect(bed.stop() == .exited(0))
    }

    @Test func aWaiterWhoseTimeoutExpiresGets503() throws {
        let bed = try Self.pooled(.slow(delayMs: 1000, reply: UpstreamReply(body: "done")))
        let first = try bed.client()
        try first.send("GET /slow HTTP/1.1\r\nHost: test.local\r\n\r\n")
        bed["app"].waitForRequests(1)
        // /quick waits for the only connection; its 200 ms run out first.
        expectGatewayError(try bed.request("GET", "/quick"), 503, "unavailable")
        #expect(try first.readResponse().status == 200)
        #expect(bed["app"].requests.map(\.target) == ["/slow"], "the waiter must never reach the upstream")
        #expect(bed["app"].connectionCount == 1)
        #expect(bed.stop() == .exited(0))
    }
}
