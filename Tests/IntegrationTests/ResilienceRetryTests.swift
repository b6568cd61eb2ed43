import Foundation
import Glibc
import MeshTestSupport
import Testing

/// SPEC §3 retries through the real gateway: which failures are retried, how often, for which methods, and
/// that the route's `timeout_ms` bounds the whole thing. Every test checks the client's answer AND how many
/// requests each upstream saw.
@Suite struct ResilienceRetryTests {
    /// A one-upstream testbed with `route` members on a catch-all route and admin on.
    static func testbed(_ behavior: UpstreamBehavior, route: String, upstream: String = "") throws -> Testbed {
        try Testbed(upstreams: ["app": behavior]) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin,
                routes: [TestConfig.route("/", to: "app", #""name": "r", "# + route)],
                upstreams: ["app": TestConfig.upstream([ports["app"]], upstream)])
        }
    }

    @Test func getResetIsRetriedTwiceThen502() throws {
        // Default retry (SPEC §3): 2 retries on reset → 3 attempts, then the gateway's own 502.
        let bed = try Self.testbed(.reset(partial: []), route: #""timeout_ms": 5000"#)
        expectGatewayError(try bed.request("GET", "/x"), 502, "bad_gateway")
        #expect(bed["app"].requests.count == 3, "\(bed["app"].requests)")
        #expect(bed.stop() == .exited(0))
    }

    @Test func getPerTryTimeoutIsRetriedTwiceThen504() throws {
        let bed = try Self.testbed(.neverAnswer, route: #""timeout_ms": 5000, "per_try_timeout_ms": 150"#)
        expectGatewayError(try bed.request("GET", "/x"), 504, "gateway_timeout")
        #expect(bed["app"].requests.count == 3, "\(bed["app"].requests)")
        // A connection with an answer still pending is never reused (its late answer would go to the wrong
        // request): each try has its own connection.
        #expect(Set(bed["app"].requests.map(\.connection)).count == 3, "\(bed["app"].requests)")
        #expect(bed.stop() == .exited(0))
    }

    @Test func postIsNotRetriedOnceItWasSent() throws {
        // SPEC §3: POST is not idempotent; after a reset the upstream may have acted on it.
        let bed = try Self.testbed(.reset(partial: []), route: #""timeout_ms": 5000"#)
        expectGatewayError(try bed.request("POST", "/orders", body: "{\"n\":1}"), 502, "bad_gateway")
        let seen = bed["app"].requests
        #expect(seen.count == 1, "\(seen)")
        #expect(seen.first?.method == "POST")
        #expect(seen.first?.bodyText == "{\"n\":1}")
        #expect(bed.stop() == .exited(0))
    }

    /// SPEC §3: after the request was sent, only idempotent methods are retried (3 attempts), others get 1.
    @Test(arguments: [("GET", 3), ("HEAD", 3), ("OPTIONS", 3), ("PUT", 3), ("DELETE", 3), ("POST", 1), ("PATCH", 1)])
    func only503sOfIdempotentMethodsAreRetried(method: String, attempts: Int) throws {
        let bed = try Self.testbed(.failThenSucceed(failures: 10), route: #""retry": { "on": ["gateway-error"] }"#)
        let response = try bed.request(method, "/m", body: method == "GET" || method == "HEAD" ? nil : "x")
        #expect(response.status == 503, "\(method): \(response)")
        #expect(bed["app"].requests.count == attempts, "\(method): \(bed["app"].requests)")
        #expect(bed["app"].requests.allSatisfy { $0.method == method })
        #expect(bed.stop() == .exited(0))
    }

    @Test func aBodyOver64KiBIsNotRetried() throws {
        // SPEC §3: only up to 64 KiB are kept for retries; a longer body cannot be sent again.
        let bed = try Self.testbed(.reset(partial: []), route: #""timeout_ms": 5000"#)
        let client = try bed.client()
        try client.send("PUT /big HTTP/1.1\r\nHost: test.local\r\nContent-Length: 100000\r\n\r\n")
        try client.sendPattern(bytes: 100_000, chunked: false)
        expectGatewayError(try client.readResponse(method: "PUT"), 502, "bad_gateway")
        let seen = bed["app"].requests
        #expect(seen.count == 1, "\(seen)")
        #expect(seen.first?.bodyCount == 100_000 && seen.first?.bodyMatchesPattern == true)
        #expect(bed.stop() == .exited(0))
    }

    @Test func postIsRetriedAfterAConnectFailure() throws {
        // Two endpoints, the first refuses: a POST that hit it was never sent, so it moves on to the second.
        let refused = try TestUpstream.refusedPort()
        let bed = try Testbed(upstreams: ["good": .echo]) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin,
                routes: [TestConfig.route("/", to: "app", #""name": "r""#)],
                upstreams: ["app": TestConfig.upstream([refused, ports["good"]])])
        }
        // Round robin over both endpoints: of four POSTs, at least one starts on the refused endpoint (and four
        // connect failures stay under the breaker's five).
        for index in 0..<4 {
            let response = try bed.request("POST", "/orders/\(index)", body: "order \(index)")
            #expect(response.status == 200, "POST \(index): \(response)")
        }
        let seen = bed["good"].requests
        #expect(seen.map(\.target) == (0..<4).map { "/orders/\($0)" }, "each POST reached the good endpoint once")
        #expect(seen.map(\.bodyText) == (0..<4).map { "order \($0)" })
        let metrics = try bed.admin("/metrics").bodyText
        let retries = PrometheusText.sum(metrics, "meshgate_retries_total", ["route": "r"])
        #expect(retries >= 1, "no retry was counted:\n\(metrics)")
        let refusals = PrometheusText.sum(metrics, "meshgate_upstream_requests_total", ["outcome": "connect_failure"])
        #expect(refusals >= 1 && refusals == retries, "connect failures \(refusals), retries \(retries)")
        #expect(bed.stop() == .exited(0))
    }

    @Test func upstream503TwiceThen200WithGatewayErrorRetries() throws {
        let bed = try Self.testbed(.failThenSucceed(failures: 2), route: #""retry": { "on": ["gateway-error"] }"#)
        let response = try bed.request("GET", "/flaky", headers: "x-request-id: it-retry-503\r\n")
        #expect(response.status == 200, "\(response)")
        #expect(response.bodyText == "ok")
        let seen = bed["app"].requests
        #expect(seen.count == 3)
        #expect(seen.allSatisfy { $0.head.headers("x-request-id") == ["it-retry-503"] }, "one request id for all tries")
        let metrics = try bed.admin("/metrics").bodyText
        #expect(PrometheusText.sum(metrics, "meshgate_retries_total", ["route": "r"]) == 2, "\(metrics)")
        #expect(PrometheusText.sum(metrics, "meshgate_upstream_requests_total", ["outcome": "http_5xx"]) == 2)
        #expect(PrometheusText.sum(metrics, "meshgate_upstream_requests_total", ["outcome": "success"]) == 1)
        // The access log line tells how many attempts it took (SPEC §5).
        let line = TraceContextGatewayTests.accessLogLine(bed, requestID: "it-retry-503")
        #expect((line?["attempts"] as? NSNumber)?.intValue == 3, "\(line ?? [:])")
        #expect((line?["status"] as? NSNumber)?.intValue == 200)
        #expect(bed.stop() == .exited(0))
    }

    @Test func upstream503IsReturnedAsIsWhenRetriesRunOut() throws {
        // SPEC §3: "its 503 stays a 503" — the last attempt's own response, not a gateway error.
        let bed = try Self.testbed(.failThenSucceed(failures: 10), route: #""retry": { "on": ["gateway-error"] }"#)
        let response = try bed.request("GET", "/flaky")
        #expect(response.status == 503, "\(response)")
        #expect(response.bodyText == "try again")
        #expect(bed["app"].requests.count == 3)
        #expect(bed.stop() == .exited(0))
    }

    @Test func theRouteDeadlineHoldsAcrossRetries() throws {
        // 500 ms for everything, 200 ms per try: at most 3 tries start in time, although 3 retries (4 tries,
        // 800 ms) are allowed (3 is also the smallest retry budget, SPEC §3).
        let bed = try Self.testbed(
            .neverAnswer, route: #""timeout_ms": 500, "per_try_timeout_ms": 200, "retry": { "retries": 3 }"#,
            upstream: #""circuit_breaker": { "consecutive_failures": 50 }"#)
        let started = TestSocket.nowMs()
        expectGatewayError(try bed.request("GET", "/x"), 504, "gateway_timeout")
        let elapsed = TestSocket.nowMs() - started
        // A generous margin for a loaded 2-core machine; the attempt count below is the precise check.
        #expect(elapsed < 500 + 2000, "answered after \(elapsed) ms")
        let attempts = bed["app"].requests.count
        #expect((1...3).contains(attempts), "\(attempts) attempts fit in 500 ms")
        #expect(bed.stop() == .exited(0))
    }

    @Test func nothingIsRetriedOnceTheResponseHeadArrived() throws {
        // SPEC §3: a complete head followed by a reset mid-body is not a `reset` failure to retry — the response
        // has started. The client gets a 502 or a cut-off 200; the upstream saw exactly one request.
        let partial = Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789".utf8)
        let bed = try Self.testbed(.reset(partial: partial), route: #""timeout_ms": 5000"#)
        let client = try bed.client()
        try client.send("GET /x HTTP/1.1\r\nHost: test.local\r\n\r\n")
        if let response = try? client.readResponse() {
            #expect(response.status == 502, "a cut-off body was answered as complete: \(response)")
        }
        #expect(bed["app"].requests.count == 1, "\(bed["app"].requests)")
        #expect(bed.stop() == .exited(0))
    }

    @Test func retriesAreBudgeted() throws {
        // SPEC §3: at most 20% of the upstream's in-flight requests (but at least 3) may be retries. Ten requests
        // whose tries all time out together would make 30 attempts without a budget.
        let bed = try Self.testbed(
            .neverAnswer, route: #""timeout_ms": 3000, "per_try_timeout_ms": 300"#,
            upstream: #""circuit_breaker": { "consecutive_failures": 1000 }"#)
        let clients = try (0..<10).map { _ in try bed.client() }
        for (index, client) in clients.enumerated() {
            try client.send("GET /b/\(index) HTTP/1.1\r\nHost: test.local\r\n\r\n")
        }
        for client in clients { expectGatewayError(try client.readResponse(), 504, "gateway_timeout") }
        let attempts = bed["app"].requests.count
        #expect((13...20).contains(attempts), "\(attempts) attempts for 10 requests")
        let metrics = try bed.admin("/metrics").bodyText
        #expect(PrometheusText.sum(metrics, "meshgate_retries_total", ["route": "r"]) == Double(attempts - 10))
        #expect(bed.stop() == .exited(0))
    }

    @Test func retriesAreOffWithZeroRetries() throws {
        let bed = try Self.testbed(.reset(partial: []), route: #""retry": { "retries": 0 }"#)
        expectGatewayError(try bed.request("GET", "/x"), 502, "bad_gateway")
        #expect(bed["app"].requests.count == 1)
        #expect(bed.stop() == .exited(0))
    }
}
