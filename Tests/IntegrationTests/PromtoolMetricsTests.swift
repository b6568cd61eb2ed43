import Foundation
import Glibc
import MeshTestSupport
import Testing

/// A gateway whose `/metrics` carries a series for every family a dashboard or a linter should see: a plain
/// listener (a proxied route, a route to a refused port with retries and a fallback, one without a fallback, a
/// rate-limited route, and requests that match no route) and a TLS listener that completed a handshake. Shared
/// by the promtool check and the Grafana dashboard check.
enum LiveMetricsWorld {
    /// The config: listener `plain` (the Testbed's listener) and listener `secure` (TLS) on `securePort`.
    static func config(_ ports: Testbed.Ports, securePort: UInt16, refusedPort: UInt16) -> String {
        let pki = TestPKI.shared
        return """
            {
              "version": 1,
              "admin": { "address": "127.0.0.1:\(ports.admin)" },
              "listeners": [
                { "name": "plain", "address": "127.0.0.1:\(ports.listener)", "routes": [
                  { "name": "api", "match": { "path_prefix": "/api" }, "upstream": "app" },
                  { "name": "degraded", "match": { "path_prefix": "/degraded" }, "upstream": "gone",
                    "retry": { "retries": 1, "on": ["connect-failure"], "backoff_base_ms": 1, "backoff_max_ms": 2 },
                    "fallback": { "status": 200, "body": "{}", "on": ["connect-failure", "circuit-open"] } },
                  { "name": "down", "match": { "path_prefix": "/down" }, "upstream": "gone",
                    "retry": { "retries": 0 } },
                  { "name": "limited", "match": { "path_prefix": "/limited" }, "upstream": "app",
                    "rate_limit": { "key": "route", "requests_per_second": 0.5, "burst": 1 } }
                ] },
                { "name": "secure", "address": "127.0.0.1:\(securePort)",
                  "tls": { "certificates": [
                    { "cert_file": "\(pki.path("localhost.crt"))", "key_file": "\(pki.path("localhost.key"))" } ] },
                  "routes": [ { "name": "secure-api", "match": { "path_prefix": "/" }, "upstream": "app" } ] }
              ],
              "upstreams": {
                "app": { "endpoints": ["127.0.0.1:\(ports["app"])"] },
                "gone": { "endpoints": ["127.0.0.1:\(refusedPort)"],
                          "circuit_breaker": { "consecutive_failures": 100, "open_ms": 60000 } }
              },
              "logging": { "level": "info", "access_log": false },
              "watch_config": false
            }
            """
    }

    /// Starts the world, drives one request of each kind, and returns it with its `/metrics` text once every
    /// request has been recorded.
    static func start() throws -> (Testbed, String) {
        let securePort = try TestSocket.freePort()
        // Nothing listens on this port (freePort closes its probe socket): every connect is refused.
        let refusedPort = try TestSocket.freePort()
        let bed = try Testbed(upstreams: ["app": .echo]) {
            config($0, securePort: securePort, refusedPort: refusedPort)
        }
        let expected: [(String, Int)] = [
            ("/api/items", 200), ("/nowhere", 404), ("/degraded/x", 200), ("/down/x", 502),
            ("/limited", 200), ("/limited", 429),
        ]
        for (path, status) in expected {
            let response = try bed.request("GET", path)
            #expect(response.status == status, "GET \(path): \(response.head.text)\(response.bodyText)")
        }
        let tls = try Tool.curl(
            ["--cacert", TestPKI.shared.path("ca.crt"), "--resolve", "localhost:\(securePort):127.0.0.1",
             "-o", "/dev/null", "-w", "%{http_code}", "https://localhost:\(securePort)/hello"])
        #expect(tls.stdout == "200", "curl over TLS: \(tls.stderr)")
        // Recording may trail the response by a moment: poll (bounded) until all seven requests are counted.
        let metrics = try bed.pollAdmin("/metrics") {
            PrometheusText.sum($0.bodyText, "http_requests_total") >= Double(expected.count + 1)
        }.bodyText
        #expect(PrometheusText.sum(metrics, "http_requests_total") == Double(expected.count + 1), "\(metrics)")
        return (bed, metrics)
    }
}

/// Issue 14: `promtool check metrics` — Prometheus's own linter, from the Debian `prometheus` package — accepts a
/// live `/metrics` with labelled series of every kind (errors, no route, fallbacks, retries, TLS), without a
/// single error or lint warning.
@Suite struct PromtoolMetricsTests {
    /// `promtool` on PATH, or nil.
    static func promtool() -> String? {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/promtool" }.first { access($0, X_OK) == 0 }
    }

    /// Runs `promtool check metrics` on `text`; returns its exit code and everything it printed.
    static func check(_ promtool: String, _ text: String) throws -> (Int32, String) {
        let result = try Tool.run(promtool, ["check", "metrics"], input: text)
        return (result.exitCode, (result.stdout + result.stderr).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func promtoolAcceptsALiveMetricsPageWithoutLintWarnings() throws {
        guard let promtool = Self.promtool() else {
            // CI installs it (.ci/run); a missing checker must not look like a pass.
            Issue.record("promtool not found on PATH: install the Debian package `prometheus` (.ci/run installs it)")
            return
        }
        // The checker itself must be able to fail here: a counter without `_total` is a lint warning.
        let (badCode, badOutput) = try Self.check(
            promtool, "# HELP bad_counter A counter.\n# TYPE bad_counter counter\nbad_counter 1\n")
        #expect(badCode != 0 && badOutput.contains("_total"), "promtool missed a known lint problem: \(badOutput)")

        let (bed, metrics) = try LiveMetricsWorld.start()
        for series in [
            #"http_requests_total{listener="plain",route="",method="GET",code="404"} 1"#,
            #"http_requests_total{listener="plain",route="down",method="GET",code="502"} 1"#,
            #"meshgate_fallbacks_total{route="degraded",reason="connect-failure"} 1"#,
            #"meshgate_rate_limited_total{route="limited"} 1"#,
            #"meshgate_tls_handshakes_total{listener="secure",result="success"} 1"#,
        ] {
            #expect(metrics.contains(series), "/metrics lacks \(series):\n\(metrics)")
        }
        #expect(PrometheusText.sum(metrics, "meshgate_retries_total", ["route": "degraded"]) >= 1)
        let (code, output) = try Self.check(promtool, metrics)
        #expect(code == 0 && output.isEmpty, "promtool check metrics (exit \(code)):\n\(output)")
        #expect(bed.stop() == .exited(0))
    }
}
