import Glibc
import MeshTestSupport
import Testing

/// Issue 15: an endpoint whose name does not resolve yet (a Kubernetes Service created after the pod) neither
/// stops the start nor a reload: its routes answer 503 without judging the endpoint, every other route works,
/// `/readyz` is unaffected, and the resolver's error is logged.
@Suite struct UnresolvedEndpointTests {
    @Test func aNameThatDoesNotResolveYetIsA503NotACrash() throws {
        let bed = try Testbed(upstreams: ["app": .echo]) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin,
                routes: [
                    TestConfig.route("/later", to: "later", "\"retry\": { \"retries\": 0 }"),
                    TestConfig.route("/", to: "app"),
                ],
                upstreams: [
                    "app": TestConfig.upstream([ports["app"]]),
                    "later": "{ \"endpoints\": [\"no-such-service.invalid:8080\"] }",
                ])
        }
        for _ in 0..<3 {
            let unresolved = try bed.request("GET", "/later/x")
            expectGatewayError(unresolved, 503, "unavailable")
        }
        #expect(try bed.request("GET", "/other").status == 200)
        #expect(try bed.admin("/readyz").status == 200)
        // Not a breaker failure: the endpoint did nothing wrong.
        let metrics = try bed.admin("/metrics").bodyText
        let labels = ["upstream": "later", "endpoint": "no-such-service.invalid:8080"]
        #expect(PrometheusText.value(metrics, "meshgate_circuit_breaker_state", labels) == 0, "\(metrics)")
        let message = "endpoint does not resolve yet; its requests get 503 until DNS answers"
        let logged = JSONLog.lines(bed.gateway.child.stdout, message: message)
        #expect(logged.first?["endpoint"] as? String == "no-such-service.invalid:8080", "\(bed.gateway.child.stdout)")
        #expect(bed.stop() == .exited(0))
    }
}
