import Glibc
import MeshTestSupport
import Testing

/// SPEC §7: a request in flight finishes on the config it started with, added listeners are bound, removed
/// listeners stop accepting.
@Suite struct ReloadSnapshotTests {
    @Test func inFlightRequestKeepsItsSnapshotAndListenersFollowTheConfig() throws {
        let slow = try TestUpstream(.slow(delayMs: 1000, reply: UpstreamReply(body: "slow")))
        let fast = try TestUpstream(.fixed(UpstreamReply(body: "fast")))
        defer {
            slow.shutdown()
            fast.shutdown()
        }
        let port = try TestSocket.freePort()
        let oldPort = try TestSocket.freePort()
        let newPort = try TestSocket.freePort()
        let adminPort = try TestSocket.freePort()
        let fastRoute = OpsConfig.route("fast", prefix: "/", to: "fast")
        let upstreams = ["slow": slow.port, "fast": fast.port]
        // v1: /slow is routed; an "old" listener. v2: no /slow route (it falls to "fast"); a "new" listener.
        let v1 = OpsConfig.document(
            admin: adminPort,
            listeners: [
                OpsConfig.listener(
                    "edge", port: port,
                    routes: [
                        OpsConfig.route("slow", prefix: "/slow", to: "slow", "\"retry\": { \"retries\": 0 }"),
                        fastRoute,
                    ]),
                OpsConfig.listener("old", port: oldPort, routes: [fastRoute]),
            ],
            upstreams: upstreams, watch: false)
        let v2 = OpsConfig.document(
            admin: adminPort,
            listeners: [
                OpsConfig.listener("edge", port: port, routes: [fastRoute]),
                OpsConfig.listener("new", port: newPort, routes: [fastRoute]),
            ],
            upstreams: upstreams, watch: false)
        let directory = try GatewayProcess.makeTempDirectory()
        let path = directory + "/routes.json"
        try ChildProcess.writeFile(path, v1)
        let gateway = try GatewayProcess.start(configPath: path, directory: directory, port: port, adminPort: adminPort)
        let admin = AdminClient(port: adminPort)
        #expect(try RawClient(port: oldPort).get("/").bodyText == "fast")

        let inFlight = try RawClient(port: port)
        try inFlight.send("GET /slow HTTP/1.1\r\nHost: ops.test\r\n\r\n")
        #expect(slow.waitForRequests(1).count == 1)
        try ChildProcess.writeFile(path, v2)
        let reload = try admin.post("/reload")
        #expect(reload.status == 200, "\(reload)")

        // New requests see v2 at once; the one in flight still completes from the slow upstream.
        #expect(try RawClient(port: port).get("/slow").bodyText == "fast")
        #expect(try RawClient(port: newPort).get("/").bodyText == "fast", "the added listener is not serving")
        let refused = Poll.until(timeoutMs: 2000) {
            guard let fd = try? TestSocket.connect(port: oldPort, timeoutMs: 500) else { return true }
            close(fd)
            return false
        }
        #expect(refused, "the removed listener still accepts")
        let response = try inFlight.readResponse()
        #expect(response.status == 200 && response.bodyText == "slow", "\(response)")
        #expect(slow.requests.count == 1)
        #expect(gateway.stop() == .exited(0))
    }
}
