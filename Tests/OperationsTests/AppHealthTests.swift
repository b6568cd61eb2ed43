import Glibc
import MeshTestSupport
import Testing

/// SPEC §6/§7: with `"app": {"health_url": ...}` in the config, `/readyz` is 200 only once the app answers it
/// with a 2xx. In Kubernetes the app runs in its own container, so meshgate runs without `-- APP`; the health
/// URL must gate readiness there too (deploy/kubernetes/sidecar-deployment.yaml relies on it).
@Suite struct AppHealthTests {
    @Test func healthURLGatesReadinessWithoutAnAppCommand() throws {
        // The "app": 503 for its first 2000 answers (the gateway polls every 100 ms); the test uses those up
        // itself when it wants the app healthy.
        let app = try TestUpstream(.failThenSucceed(failures: 2000))
        defer { app.shutdown() }
        let port = try TestSocket.freePort()
        let adminPort = try TestSocket.freePort()
        let config = OpsConfig.document(
            admin: adminPort,
            listeners: [
                OpsConfig.listener("inbound", port: port, routes: [OpsConfig.route("app", prefix: "/", to: "app")])
            ],
            upstreams: ["app": app.port], watch: false,
            extra:
                "\"app\": { \"health_url\": \"http://127.0.0.1:\(app.port)/healthz\", \"startup_timeout_ms\": 20000 }")
        let directory = try GatewayProcess.makeTempDirectory()
        try ChildProcess.writeFile(directory + "/routes.json", config)
        let gateway = try GatewayProcess.start(
            configPath: directory + "/routes.json", directory: directory, port: port, adminPort: adminPort)
        let admin = AdminClient(port: adminPort)

        let polled = app.waitForRequests(1, timeoutMs: 3000).contains { $0.target == "/healthz" }
        #expect(polled, "the gateway never polled app.health_url")
        #expect(admin.readyStatus() == 503, "/readyz is 200 while the app's health URL answers 503")

        // Use up the upstream's failures, then the next poll succeeds.
        let direct = try RawClient(port: app.port)
        #expect(Poll.until(timeoutMs: 20_000, intervalMs: 0) { try direct.get("/burn").status == 200 })
        #expect(Poll.until(timeoutMs: 3000) { admin.readyStatus() == 200 }, "/readyz never followed the app's health")
        #expect(gateway.stop() == .exited(0))
    }
}
