import MeshTestSupport
import Testing

/// SPEC §3's retry set through the real gateway: after a request was sent, only GET, HEAD, OPTIONS, PUT and
/// DELETE are tried again; every other method (TRACE, extension methods) reaches the upstream exactly once.
@Suite struct RetryMethodTests {
    // Regression: issue 10 — TRACE was retried (RFC 9110 calls it idempotent, SPEC §3 does not retry it).
    @Test(arguments: [("TRACE", 1), ("PROPFIND", 1), ("PURGE", 1), ("GET", 3), ("DELETE", 3)])
    func onlySpecMethodsAreRetriedAfterAReset(method: String, attempts: Int) throws {
        let bed = try ResilienceRetryTests.testbed(.reset(partial: []), route: #""timeout_ms": 5000"#)
        expectGatewayError(try bed.request(method, "/m"), 502, "bad_gateway")
        let seen = bed["app"].requests
        #expect(seen.count == attempts, "\(method): \(seen)")
        #expect(seen.allSatisfy { $0.method == method })
        #expect(bed.stop() == .exited(0))
    }

    @Test(arguments: ["TRACE", "PROPFIND"])
    func otherMethodsAreNotRetriedOnA503(method: String) throws {
        let bed = try ResilienceRetryTests.testbed(
            .failThenSucceed(failures: 10), route: #""retry": { "on": ["gateway-error", "5xx"] }"#)
        let response = try bed.request(method, "/m")
        #expect(response.status == 503, "\(method): \(response)")
        #expect(bed["app"].requests.count == 1, "\(method): \(bed["app"].requests)")
        #expect(bed.stop() == .exited(0))
    }
}
