import Glibc
import MeshTestSupport
import Testing

/// SPEC §3 circuit breaker and balancing through the real gateway: opening after consecutive failures, failing
/// fast without upstream traffic, half-open probing after `open_ms`, and traffic moving to a healthy endpoint.
@Suite struct ResilienceBreakerTests {
    /// One upstream "app" (single endpoint), no retries, the given breaker, admin on.
    static func testbed(_ behavior: UpstreamBehavior, breaker: String) throws -> Testbed {
        try Testbed(upstreams: ["app": behavior]) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin,
                routes: [TestConfig.route("/", to: "app", #""name": "r", "retry": { "retries": 0 }"#)],
                upstreams: ["app": TestConfig.upstream([ports["app"]], #""circuit_breaker": \#(breaker)"#)])
        }
    }

    /// The `breaker` state `/upstreams` reports for the only endpoint of upstream `name`.
    static func breakerState(_ bed: Testbed, upstream name: String = "app") throws -> String? {
        let json = try bed.admin("/upstreams").jsonObject
        let upstreams = json?["upstreams"] as? [[String: Any]] ?? []
        let endpoints = upstreams.first { $0["name"] as? String == name }?["endpoints"] as? [[String: Any]]
        return endpoints?.first?["breaker"] as? String
    }

    static let failing = UpstreamBehavior.fixed(UpstreamReply(status: 500, body: "broken"))

    @Test func fiveConsecutiveFailuresOpenTheBreakerAndLaterRequestsFailFast() throws {
        let bed = try Self.testbed(Self.failing, breaker: #"{ "consecutive_failures": 5, "open_ms": 60000 }"#)
        for index in 0..<5 {
            let response = try bed.request("GET", "/x/\(index)")
            // The upstream's own 500 passes through unchanged.
            #expect(response.status == 500 && response.bodyText == "broken", "request \(index): \(response)")
        }
        #expect(bed["app"].requests.count == 5)
        for index in 0..<3 {
            expectGatewayError(try bed.request("GET", "/y/\(index)"), 503, "unavailable")
        }
        #expect(bed["app"].requests.count == 5, "an open breaker sent traffic: \(bed["app"].requests)")
        #expect(try Self.breakerState(bed) == "open")
        let metrics = try bed.admin("/metrics").bodyText
        #expect(PrometheusText.value(metrics, "meshgate_circuit_breaker_state", ["upstream": "app"]) == 1, "\(metrics)")
        #expect(PrometheusText.sum(metrics, "meshgate_circuit_breaker_transitions_total", ["to": "open"]) == 1)
        // SPEC §5: a breaker transition is a log event.
        let deadline = TestSocket.nowMs() + 5000
        while !bed.gateway.stdout.lowercased().contains("breaker") && TestSocket.nowMs() < deadline { usleep(10_000) }
        #expect(bed.gateway.stdout.lowercased().contains("breaker"), "no breaker event logged:\n\(bed.gateway.stdout)")
        #expect(bed.stop() == .exited(0))
    }

    @Test func breakerStateIsSharedByAllWorkers() throws {
        // Two workers (SO_REUSEPORT spreads new connections over them): failures seen by either count toward
        // one breaker, and once it is open neither worker sends traffic.
        let bed = try Testbed(upstreams: ["app": Self.failing], workers: 2) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin,
                routes: [TestConfig.route("/", to: "app", #""retry": { "retries": 0 }"#)],
                upstreams: ["app": TestConfig.upstream(
                    [ports["app"]], #""circuit_breaker": { "consecutive_failures": 5, "open_ms": 60000 }"#)])
        }
        var statuses: [Int] = []
        for index in 0..<16 { statuses.append(try bed.request("GET", "/x/\(index)").status) }
        #expect(statuses.prefix(5).allSatisfy { $0 == 500 }, "\(statuses)")
        #expect(statuses.dropFirst(5).allSatisfy { $0 == 503 }, "\(statuses)")
        #expect(bed["app"].requests.count == 5, "workers kept separate breakers: \(bed["app"].requests.count)")
        #expect(bed.stop() == .exited(0))
    }

    @Test func retriesCountTowardTheBreakerAndStopWhenItOpens() throws {
        // SPEC §3: every attempt counts. Request 1 makes 3 failed attempts, request 2 the 4th and 5th, which open
        // the breaker, so its last retry must not go out; request 3 fails fast.
        let bed = try Testbed(upstreams: ["app": .reset(partial: [])]) { ports in
            TestConfig.document(
                port: ports.listener,
                routes: [TestConfig.route("/", to: "app", #""timeout_ms": 5000"#)],
                upstreams: ["app": TestConfig.upstream(
                    [ports["app"]], #""circuit_breaker": { "consecutive_failures": 5, "open_ms": 60000 }"#)])
        }
        expectGatewayError(try bed.request("GET", "/1"), 502, "bad_gateway")
        #expect(bed["app"].requests.count == 3)
        let second = try bed.request("GET", "/2")
        #expect([502, 503].contains(second.status), "\(second)")
        #expect(bed["app"].requests.count == 5, "a retry went to an open endpoint: \(bed["app"].requests)")
        expectGatewayError(try bed.request("GET", "/3"), 503, "unavailable")
        #expect(bed["app"].requests.count == 5)
        #expect(bed.stop() == .exited(0))
    }

    @Test func fourFailuresThenASuccessKeepTheBreakerClosed() throws {
        // 4 consecutive failures stay under the threshold of 5; the success resets the count.
        let bed = try Self.testbed(.failThenSucceed(failures: 4), breaker: #"{ "consecutive_failures": 5 }"#)
        for expected in [503, 503, 503, 503, 200, 200] {
            #expect(try bed.request("GET", "/x").status == expected)
        }
        #expect(bed["app"].requests.count == 6)
        #expect(try Self.breakerState(bed) == "closed")
        #expect(bed.stop() == .exited(0))
    }

    @Test func afterOpenMsOneProbeGoesThroughAndASuccessClosesTheBreaker() throws {
        let bed = try Self.testbed(
            .failThenSucceed(failures: 5), breaker: #"{ "consecutive_failures": 5, "open_ms": 1500 }"#)
        for _ in 0..<5 { #expect(try bed.request("GET", "/x").status == 503) }
        #expect(bed["app"].requests.count == 5)
        // Fast failures (the gateway's JSON 503) until the breaker half-opens; then the probe reaches the
        // upstream, which now succeeds. Poll with a bound, not a sleep of open_ms (long enough that the first
        // poll lands while it is open even on a loaded machine).
        let deadline = TestSocket.nowMs() + 15_000
        var probe: HTTPResponse?
        var fastFailures = 0
        while TestSocket.nowMs() < deadline {
            let response = try bed.request("GET", "/probe")
            if response.status == 200 {
                probe = response
                break
            }
            expectGatewayError(response, 503, "unavailable")
            fastFailures += 1
            usleep(20_000)
        }
        #expect(probe?.bodyText == "ok", "no probe got through in 15 s")
        #expect(fastFailures >= 1, "the breaker did not fail fast while open")
        // Only the probe reached the upstream; every fast failure stayed in the gateway.
        #expect(bed["app"].requests.count == 6, "\(bed["app"].requests)")
        #expect(try Self.breakerState(bed) == "closed")
        for index in 0..<3 { #expect(try bed.request("GET", "/after/\(index)").status == 200) }
        #expect(bed["app"].requests.count == 9)
        #expect(bed.stop() == .exited(0))
    }

    @Test func aFailedProbeOpensTheBreakerAgain() throws {
        // open_ms is long enough that the request right after the failed probe cannot outlast it on a loaded
        // machine (with 200 ms, a CI run under load saw that request become the next probe).
        let bed = try Self.testbed(Self.failing, breaker: #"{ "consecutive_failures": 2, "open_ms": 1500 }"#)
        for _ in 0..<2 { #expect(try bed.request("GET", "/x").status == 500) }
        // Poll until the probe (a 500 from the upstream itself) goes through.
        let deadline = TestSocket.nowMs() + 15_000
        var probed = false
        while !probed && TestSocket.nowMs() < deadline {
            let response = try bed.request("GET", "/probe")
            probed = response.status == 500
            if !probed { expectGatewayError(response, 503, "unavailable") }
            usleep(20_000)
        }
        #expect(probed)
        #expect(bed["app"].requests.count == 3)
        // The failed probe reopened it: the next request fails fast.
        expectGatewayError(try bed.request("GET", "/again"), 503, "unavailable")
        #expect(bed["app"].requests.count == 3)
        #expect(bed.stop() == .exited(0))
    }

    @Test(arguments: ["round_robin", "least_request", "random"])
    func trafficMovesToTheHealthyEndpoint(balance: String) throws {
        let bed = try Testbed(upstreams: ["bad": Self.failing, "good": .echo]) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin,
                routes: [TestConfig.route("/", to: "app", #""retry": { "retries": 0 }"#)],
                upstreams: ["app": TestConfig.upstream(
                    [ports["bad"], ports["good"]],
                    #""balance": "\#(balance)", "circuit_breaker": { "consecutive_failures": 3, "open_ms": 60000 }"#)])
        }
        var statuses: [Int] = []
        for index in 0..<40 { statuses.append(try bed.request("GET", "/r/\(index)").status) }
        // The bad endpoint gets exactly the 3 failures that open its breaker; the rest all go to the good one.
        // (With `random`, fewer than 3 picks of the bad endpoint in the first 30 requests has p < 1e-6.)
        #expect(bed["bad"].requests.count == 3, "\(balance): \(bed["bad"].requests)")
        #expect(bed["good"].requests.count == 37)
        #expect(statuses.filter { $0 == 500 }.count == 3)
        #expect(statuses.suffix(10).allSatisfy { $0 == 200 }, "\(balance): \(statuses)")
        #expect(bed.stop() == .exited(0))
    }

    @Test func halfOpenLetsOnlyOneProbeThrough() throws {
        // `half_open_requests: 1`: while the (slow) probe is in flight, other requests still fail fast.
        let slowFailure = UpstreamBehavior.slow(delayMs: 400, reply: UpstreamReply(status: 500, body: "broken"))
        let bed = try Self.testbed(slowFailure, breaker: #"{ "consecutive_failures": 2, "open_ms": 200 }"#)
        for _ in 0..<2 { #expect(try bed.request("GET", "/x").status == 500) }
        let deadline = TestSocket.nowMs() + 5000
        var probe: RawClient?
        while probe == nil && TestSocket.nowMs() < deadline {
            let client = try bed.client()
            try client.send("GET /probe HTTP/1.1\r\nHost: test.local\r\n\r\n")
            if bed["app"].waitForRequests(3, timeoutMs: 100).count >= 3 {
                probe = client
            } else {
                expectGatewayError(try client.readResponse(), 503, "unavailable")
            }
        }
        let inFlight = try #require(probe, "no probe reached the upstream in 5 s")
        expectGatewayError(try bed.request("GET", "/second"), 503, "unavailable")
        #expect(bed["app"].requests.map(\.target) == ["/x", "/x", "/probe"])
        #expect(try inFlight.readResponse().status == 500)
        #expect(bed.stop() == .exited(0))
    }

    @Test func retriesPreferTheOtherEndpoint() throws {
        // SPEC §3: a retry prefers another endpoint; with one endpoint resetting, every GET still succeeds.
        let bed = try Testbed(upstreams: ["bad": .reset(partial: []), "good": .echo]) { ports in
            TestConfig.document(
                port: ports.listener,
                routes: [TestConfig.route("/", to: "app", #""retry": { "retries": 1 }"#)],
                upstreams: ["app": TestConfig.upstream(
                    [ports["bad"], ports["good"]], #""circuit_breaker": { "consecutive_failures": 50 }"#)])
        }
        for index in 0..<6 {
            let response = try bed.request("GET", "/r/\(index)")
            #expect(response.status == 200, "request \(index): \(response)")
        }
        #expect(bed["good"].requests.count == 6)
        #expect((1...6).contains(bed["bad"].requests.count), "round robin sends some first tries to bad")
        #expect(bed.stop() == .exited(0))
    }
}
