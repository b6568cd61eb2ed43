import CLinux
import Glibc
import MeshConfig
import MeshControl
import MeshGateway
import MeshHTTP1
import MeshJSON
import MeshOTLP
import MeshProxy
import MeshResilience
import Testing

@Suite(.serialized) struct TelemetryTests {
    static let devNull = open("/dev/null", O_WRONLY | O_CLOEXEC)

    func record(listener: Int = 0, route: Int = 0, method: HTTPMethod = .get, status: Int = 200, ms: Int64 = 3)
        -> RequestRecord
    {
        var r = RequestRecord()
        r.listener = listener
        r.route = route
        r.method = method
        r.status = status
        r.startNs = 1_000_000_000
        r.endNs = r.startNs + ms * 1_000_000
        return r
    }

    @Test func hundredRequestsAreCountedAcrossWorkers() {
        let telemetry = Telemetry(config: testConfig(), workers: 2, output: Self.devNull)
        defer { telemetry.stop() }
        for i in 0..<100 { telemetry.worker(i % 2).requestFinished(record()) }
        telemetry.worker(1).requestFinished(record(route: -1, method: .post, status: 404, ms: 0))
        let text = telemetry.metricsText()
        let series = #"{listener="edge",route="profile",method="GET",code="200"}"#
        #expect(MetricsText.value(text, "http_requests_total" + series) == 100)
        let labels = #"{listener="edge",route="profile""#
        #expect(MetricsText.value(text, "http_request_duration_seconds_count" + labels + "}") == 100)
        #expect(MetricsText.value(text, "http_request_duration_seconds_bucket" + labels + #",le="0.0025"}"#) == 0)
        #expect(MetricsText.value(text, "http_request_duration_seconds_bucket" + labels + #",le="0.005"}"#) == 100)
        #expect(
            MetricsText.value(text, "http_request_duration_seconds_sum" + labels + "}").map { abs($0 - 0.3) < 1e-9 }
                == true)
        // Unmatched requests: route label "".
        #expect(
            MetricsText.value(text, #"http_requests_total{listener="edge",route="",method="POST",code="404"}"#) == 1)
    }

    @Test func everySpecMetricIsDeclared() {
        let telemetry = Telemetry(config: testConfig(), workers: 1, output: Self.devNull)
        defer { telemetry.stop() }
        telemetry.worker(0).requestFinished(record())
        let text = telemetry.metricsText()
        for name in GatewayMetrics.specNames {
            #expect(text.contains("# TYPE \(name) "), "missing \(name)")
        }
        #expect(text.contains("# TYPE meshgate_log_dropped_total counter"))
        #expect((MetricsText.value(text, "process_resident_memory_bytes") ?? 0) > 0)
        #expect((MetricsText.value(text, "process_open_fds") ?? 0) > 0)
        #expect(MetricsText.value(text, "meshgate_config_generation") == 1)
        let commit = String(cString: clinux_build_commit())
        #expect(
            MetricsText.value(
                text, "meshgate_build_info{version=\"\(CommandLineInterface.version)\",commit=\"\(commit)\"}") == 1,
            "\(text)")
    }

    @Test func upstreamRetryFallbackJWTAndConnectionSeries() {
        let telemetry = Telemetry(config: testConfig(), workers: 1, output: Self.devNull)
        defer { telemetry.stop() }
        let w = telemetry.worker(0)
        w.attemptFinished(upstream: 0, endpoint: 1, outcome: .http5xx, durationSeconds: 0.02)
        w.attemptFinished(upstream: 0, endpoint: 1, outcome: .http5xx, durationSeconds: 0.02)
        w.attemptFinished(upstream: 1, endpoint: 0, outcome: .connectFailure, durationSeconds: 0.001)
        w.attemptFinished(upstream: 9, endpoint: 0, outcome: .success, durationSeconds: 1)  // ignored
        w.retried(listener: 0, route: 0)
        w.retried(listener: 1, route: 0)
        w.fallbackServed(listener: 0, route: 0, reason: .circuitOpen)
        w.jwtValidated(provider: "hmac", result: "success")
        w.jwtValidated(provider: "hmac", result: "expired")
        w.jwtValidated(provider: "hmac", result: "something_new")
        w.connectionOpened(listener: 1)
        w.connectionOpened(listener: 1)
        w.connectionClosed(listener: 1)
        w.upstreamConnections(upstream: 0, endpoint: 0, activeDelta: 1, idleDelta: 0)
        w.upstreamConnections(upstream: 0, endpoint: 0, activeDelta: -1, idleDelta: 1)
        let text = telemetry.metricsText()
        let v = { (series: String) in MetricsText.value(text, series) }
        #expect(
            v(#"meshgate_upstream_requests_total{upstream="profile",endpoint="127.0.0.1:9103",outcome="http_5xx"}"#)
                == 2)
        #expect(
            v(
                #"meshgate_upstream_requests_total{upstream="graph",endpoint="127.0.0.1:9104",outcome="connect_failure"}"#
            ) == 1)
        #expect(v(#"meshgate_upstream_request_duration_seconds_count{upstream="profile"}"#) == 2)
        #expect(v(#"meshgate_retries_total{route="profile"}"#) == 1)
        #expect(v(#"meshgate_retries_total{route="graph"}"#) == 1)
        #expect(v(#"meshgate_fallbacks_total{route="profile",reason="circuit-open"}"#) == 1)
        #expect(v(#"meshgate_fallbacks_total{route="profile",reason="5xx"}"#) == 0)
        #expect(v(#"meshgate_jwt_validations_total{provider="hmac",result="success"}"#) == 1)
        #expect(v(#"meshgate_jwt_validations_total{provider="hmac",result="expired"}"#) == 1)
        #expect(v(#"meshgate_jwt_validations_total{provider="hmac",result="other"}"#) == 1)
        #expect(v(#"meshgate_connections_active{listener="internal"}"#) == 1)
        #expect(v(#"meshgate_upstream_connections{upstream="profile",state="active"}"#) == 0)
        #expect(v(#"meshgate_upstream_connections{upstream="profile",state="idle"}"#) == 1)
    }

    @Test func processWideEventsAndReloadCarryOver() {
        let first = Telemetry(config: testConfig(), workers: 1, output: Self.devNull)
        defer { first.stop() }
        for _ in 0..<3 { first.worker(0).requestFinished(record()) }
        first.breakerTransition(upstream: 0, endpoint: 1, to: .open)
        first.jwksRefreshFailed(provider: "hmac")
        first.setJWKSAge(provider: "hmac", seconds: 10)
        first.configReloaded(success: false, generation: 1)

        let second = Telemetry(config: testConfig(generation: 2), workers: 1, previous: first)
        first.configReloaded(success: true, generation: 2)
        for _ in 0..<2 { second.worker(0).requestFinished(record()) }
        let text = second.metricsText()
        let v = { (series: String) in MetricsText.value(text, series) }
        #expect(v(#"http_requests_total{listener="edge",route="profile",method="GET",code="200"}"#) == 5)
        #expect(
            v(#"meshgate_circuit_breaker_transitions_total{upstream="profile",endpoint="127.0.0.1:9103",to="open"}"#)
                == 1)
        #expect(
            v(#"meshgate_circuit_breaker_transitions_total{upstream="profile",endpoint="127.0.0.1:9102",to="open"}"#)
                == 0)
        #expect(v(#"meshgate_jwks_refresh_failures_total{provider="hmac"}"#) == 1)
        #expect((v(#"meshgate_jwks_age_seconds{provider="hmac"}"#) ?? 0) >= 10)
        #expect(v(#"meshgate_config_reloads_total{result="failure"}"#) == 1)
        #expect(v(#"meshgate_config_reloads_total{result="success"}"#) == 1)
        #expect(v("meshgate_config_generation") == 2)
        // Both generations share one log writer; a second stop is harmless.
        #expect(second.log === first.log)
    }

    @Test func breakerStateGaugeReadsTheSharedBreaker() {
        let config = testConfig()
        let states = EndpointRegistry().states(for: config.source)
        let telemetry = Telemetry(config: config, workers: 1, endpoints: states, output: Self.devNull)
        defer { telemetry.stop() }
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts)
        let now = Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
        let breaker = states[0][1].breaker
        for _ in 0..<breaker.settings.consecutiveFailures {
            if let ticket = breaker.allow(nowMs: now) { _ = breaker.record(ticket, success: false, nowMs: now) }
        }
        let text = telemetry.metricsText()
        #expect(
            MetricsText.value(text, #"meshgate_circuit_breaker_state{upstream="profile",endpoint="127.0.0.1:9103"}"#)
                == 1)
        #expect(
            MetricsText.value(text, #"meshgate_circuit_breaker_state{upstream="profile",endpoint="127.0.0.1:9102"}"#)
                == 0)
    }
}
