import Foundation
import Glibc
import MeshTestSupport
import Testing

/// SPEC §3 `fallback`: the configured status, headers and body answer instead of an error for each of its
/// reasons, marked `x-meshgate-fallback: 1`, and counted in `meshgate_fallbacks_total{route,reason}`.
@Suite struct ResilienceFallbackTests {
    /// One fallback case: the upstream (nil = a refused port), the reasons the fallback covers, route extras, the
    /// breaker, and how many requests run before the one that must be answered by the fallback.
    struct Case: Sendable, CustomStringConvertible {
        let reason: String
        let behavior: UpstreamBehavior?
        let routeExtra: String
        let breaker: String
        let warmUp: Int
        /// What the upstream must have seen in total.
        let upstreamRequests: Int
        var description: String { reason }
    }

    static let cases: [Case] = [
        Case(reason: "connect-failure", behavior: nil, routeExtra: "", breaker: "{}", warmUp: 0, upstreamRequests: 0),
        Case(
            reason: "timeout", behavior: .neverAnswer, routeExtra: #", "timeout_ms": 300"#, breaker: "{}",
            warmUp: 0, upstreamRequests: 1),
        // Two real 500s open the breaker (the fallback covers only circuit-open, so they pass through).
        Case(
            reason: "circuit-open", behavior: .fixed(UpstreamReply(status: 500, body: "broken")), routeExtra: "",
            breaker: #"{ "consecutive_failures": 2, "open_ms": 60000 }"#, warmUp: 2, upstreamRequests: 2),
        Case(
            reason: "5xx", behavior: .fixed(UpstreamReply(status: 500, body: "broken")), routeExtra: "",
            breaker: "{}", warmUp: 0, upstreamRequests: 1),
    ]

    static let fallback = """
        "fallback": { "status": 200, "headers": { "content-type": "application/json", "x-degraded": "yes" },
                      "body": "{\\"avatar\\":\\"/static/default.png\\"}", "on": ["REASON"] }
        """

    @Test(arguments: cases)
    func fallbackAnswersForItsReason(_ test: Case) throws {
        let refused = try TestUpstream.refusedPort()
        let behaviors: [String: UpstreamBehavior] = test.behavior.map { ["app": $0] } ?? [:]
        let bed = try Testbed(upstreams: behaviors) { ports in
            let fallback = Self.fallback.replacingOccurrences(of: "REASON", with: test.reason)
            return TestConfig.document(
                port: ports.listener, adminPort: ports.admin,
                routes: [TestConfig.route(
                    "/", to: "app", #""name": "r", "retry": { "retries": 0 }, "# + fallback + test.routeExtra)],
                upstreams: ["app": TestConfig.upstream(
                    [ports.upstreams["app"] ?? refused], #""circuit_breaker": \#(test.breaker)"#)])
        }
        for index in 0..<test.warmUp {
            let response = try bed.request("GET", "/warm/\(index)")
            #expect(response.status == 500 && response.header("x-meshgate-fallback") == nil, "\(response)")
        }
        let response = try bed.request("GET", "/avatar")
        #expect(response.status == 200, "\(test.reason): \(response)")
        #expect(response.bodyText == #"{"avatar":"/static/default.png"}"#)
        #expect(response.header("content-type") == "application/json")
        #expect(response.header("x-degraded") == "yes")
        #expect(response.header("x-meshgate-fallback") == "1")
        #expect(response.header("x-request-id")?.isEmpty == false, "\(response)")
        #expect(bed.upstreams["app"]?.requests.count ?? 0 == test.upstreamRequests)
        let metrics = try bed.admin("/metrics").bodyText
        let counted = PrometheusText.sum(metrics, "meshgate_fallbacks_total", ["route": "r"])
        #expect(counted == 1, "meshgate_fallbacks_total:\n\(metrics)")
        #expect(bed.stop() == .exited(0))
    }

    @Test func aFallbackDoesNotCoverOtherReasons() throws {
        // Only "timeout" is covered: a refused connection still gets the gateway's 502.
        let refused = try TestUpstream.refusedPort()
        let bed = try Testbed(upstreams: [:]) { ports in
            TestConfig.document(
                port: ports.listener,
                routes: [TestConfig.route(
                    "/", to: "app",
                    #""retry": { "retries": 0 }, "#
                        + Self.fallback.replacingOccurrences(of: "REASON", with: "timeout"))],
                upstreams: ["app": TestConfig.upstream([refused])])
        }
        let response = try bed.request("GET", "/avatar")
        expectGatewayError(response, 502, "bad_gateway")
        #expect(response.header("x-meshgate-fallback") == nil)
        #expect(bed.stop() == .exited(0))
    }

    @Test func aHealthyUpstreamIsNotReplacedByTheFallback() throws {
        let bed = try Testbed(upstreams: ["app": .echo]) { ports in
            TestConfig.document(
                port: ports.listener,
                routes: [TestConfig.route(
                    "/", to: "app", Self.fallback.replacingOccurrences(of: "\"REASON\"", with: #""5xx", "timeout""#))],
                upstreams: ["app": TestConfig.upstream([ports["app"]])])
        }
        let response = try bed.request("GET", "/avatar")
        #expect(response.status == 200)
        #expect(response.header("x-meshgate-fallback") == nil)
        #expect(response.bodyText.hasPrefix("GET /avatar HTTP/1.1"))
        #expect(bed["app"].requests.count == 1)
        #expect(bed.stop() == .exited(0))
    }
}
