import Glibc
import MeshTestSupport
import Testing

/// SPEC §7: what a reload must not reset. Circuit-breaker state of unchanged endpoints survives; counters
/// keep counting (a Prometheus counter that drops to zero on every reload reads as a process restart).
@Suite struct ReloadStateTests {
    @Test func openBreakerAndCountersSurviveAReload() throws {
        let failing = try TestUpstream(.fixed(UpstreamReply(status: 503, body: "down")))
        defer { failing.shutdown() }
        let port = try TestSocket.freePort()
        let adminPort = try TestSocket.freePort()
        func version(_ routeName: String) -> String {
            OpsConfig.document(
                admin: adminPort,
                listeners: [
                    OpsConfig.listener(
                        "edge", port: port,
                        routes: [
                            OpsConfig.route("kept", prefix: "/kept", to: "down", "\"retry\": { \"retries\": 0 }"),
                            OpsConfig.route(routeName, prefix: "/", to: "down", "\"retry\": { \"retries\": 0 }"),
                        ])
                ],
                upstreams: ["down": failing.port],
                upstreamExtra: "\"circuit_breaker\": { \"consecutive_failures\": 3, \"open_ms\": 60000 }",
                watch: false)
        }
        let directory = try GatewayProcess.makeTempDirectory()
        let path = directory + "/routes.json"
        try ChildProcess.writeFile(path, version("first"))
        let gateway = try GatewayProcess.start(configPath: path, directory: directory, port: port, adminPort: adminPort)
        let admin = AdminClient(port: adminPort)
        let client = try RawClient(port: port)

        // Three upstream 503s open the breaker (consecutive_failures 3); the fourth request fails fast.
        for _ in 0..<3 { #expect(try client.get("/kept").status == 503) }
        let fast = try client.get("/kept")
        #expect(fast.status == 503 && fast.jsonString("error") == "unavailable", "\(fast)")
        #expect(failing.requests.count == 3)
        #expect(try admin.metric("meshgate_circuit_breaker_state", ["upstream": "down"]) == 1)
        let before = try admin.metric("http_requests_total", ["route": "kept"])
        #expect(before == 4)

        try ChildProcess.writeFile(path, version("second"))
        #expect(try admin.post("/reload").status == 200)

        let after = try client.get("/kept")
        #expect(after.status == 503 && after.jsonString("error") == "unavailable", "breaker reset by reload: \(after)")
        #expect(failing.requests.count == 3, "a request reached the open endpoint after the reload")
        #expect(try admin.metric("meshgate_circuit_breaker_state", ["upstream": "down"]) == 1)
        let upstreams = try admin.get("/upstreams").bodyText
        #expect(upstreams.contains("\"breaker\":\"open\""), "\(upstreams)")
        #expect(try admin.metric("http_requests_total", ["route": "kept"]) == 5, "the counter restarted on reload")
        #expect(gateway.stop() == .exited(0))
    }
}
