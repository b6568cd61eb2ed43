import Foundation
import Glibc
import Testing

/// The other degradation path (SPEC §3 "Active health checks: unhealthy endpoints are skipped"): profile-service
/// dies while no client is asking for it; the health checker notices, and the next `GET /profiles/{user}` gets
/// the fallback at once without any attempt upstream (and without touching the breaker). Back up, the endpoint
/// turns healthy again and real data flows.
@Suite struct DegradationHealthCheckTests {
    /// The test copy's profile health check: fast (every 100 ms), two failures to go unhealthy, one success back.
    static let fastHealthCheck = (
        "\"endpoints\": [\"127.0.0.1:9102\"],\n      \"health_check\": { \"path\": \"/healthz\" }",
        "\"endpoints\": [\"127.0.0.1:9102\"],\n      \"health_check\": { \"path\": \"/healthz\", \"interval_ms\": 100, "
            + "\"timeout_ms\": 100, \"unhealthy_threshold\": 2, \"healthy_threshold\": 1 }"
    )

    static func profileHealth(_ stack: DegradationStack) throws -> String? {
        let reply = try HTTPClient.request(port: stack.adminPort, "GET", "/upstreams")
        let entry = reply.json?["upstreams"]?.arrayValue?.first { $0["name"]?.stringValue == "profile" }
        return entry?["endpoints"]?.arrayValue?.first?["health"]?.stringValue
    }

    /// Bounded poll (10 s) until profile's health reads `wanted`.
    static func waitHealth(_ stack: DegradationStack, _ wanted: String) throws {
        for _ in 0..<200 {
            if try profileHealth(stack) == wanted { return }
            usleep(50_000)
        }
        Issue.record("profile never became \(wanted): \(try profileHealth(stack) ?? "nil")")
    }

    @Test func unhealthyEndpointIsSkippedAndTheFallbackServed() throws {
        let stack = try DegradationStack(edits: [Self.fastHealthCheck])
        let alice = try stack.login("alice")
        let put = try stack.call("PUT", "/profiles/alice", token: alice, json: #"{"nickname":"Alice"}"#)
        #expect(put.status == 200, "\(put.text)")
        try Self.waitHealth(stack, "healthy")

        #expect(stack.profile.stop(SIGKILL) == -SIGKILL)
        try Self.waitHealth(stack, "unhealthy")
        let fallbacksBefore = try stack.metric("meshgate_fallbacks_total", ["route": "profile-read"]) ?? 0
        let attemptsBefore = try stack.metric("meshgate_upstream_requests_total", ["upstream": "profile"]) ?? 0
        let reply = try stack.call("GET", "/profiles/alice", token: alice)
        DegradationTests.expectFallback(reply, "profile unhealthy")
        #expect(try stack.metric("meshgate_fallbacks_total", ["route": "profile-read"]) == fallbacksBefore + 1)
        // Skipped, not tried: no attempt went to the dead endpoint, so its breaker saw nothing.
        #expect(try stack.metric("meshgate_upstream_requests_total", ["upstream": "profile"]) == attemptsBefore)
        #expect(try DegradationTests.breakerState(stack) == 0)
        let write = try stack.call("PUT", "/profiles/alice", token: alice, json: #"{"nickname":"Lost"}"#)
        #expect(write.status == 503 && write.errorCode == "unavailable", "\(write.text)")

        try stack.profile.restart()
        try Self.waitHealth(stack, "healthy")
        let back = try stack.call("GET", "/profiles/alice", token: alice)
        #expect(back.status == 200 && back.header("x-meshgate-fallback") == nil, "\(back.text)")
        #expect(back.json?["nickname"]?.stringValue == "Alice")
    }
}
