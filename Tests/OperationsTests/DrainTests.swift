import Glibc
import MeshTestSupport
import Testing

/// SPEC §7 drain on SIGTERM: `/readyz` 503 at once, accept for `drain_grace_ms`, then refuse new connections,
/// close idle ones, let the request in flight finish with `Connection: close`, exit 0 before `drain_timeout_ms`.
@Suite struct DrainTests {
    static let graceMs = 1000
    static let timeoutMs = 10_000

    @Test func sigtermDrainsTheSlowRequestAndExitsZero() throws {
        let slow = try TestUpstream(.slow(delayMs: 2000, reply: UpstreamReply(body: "slow")))
        let fast = try TestUpstream(.fixed(UpstreamReply(body: "fast")))
        defer {
            slow.shutdown()
            fast.shutdown()
        }
        let port = try TestSocket.freePort()
        let adminPort = try TestSocket.freePort()
        let config = OpsConfig.document(
            admin: adminPort,
            listeners: [
                OpsConfig.listener(
                    "edge", port: port,
                    routes: [
                        OpsConfig.route(
                            "slow", prefix: "/slow", to: "slow", "\"timeout_ms\": 8000, \"retry\": { \"retries\": 0 }"),
                        OpsConfig.route("fast", prefix: "/", to: "fast"),
                    ])
            ],
            upstreams: ["slow": slow.port, "fast": fast.port],
            limits: "{ \"drain_grace_ms\": \(DrainTests.graceMs), \"drain_timeout_ms\": \(DrainTests.timeoutMs) }",
            watch: false)
        let directory = try GatewayProcess.makeTempDirectory()
        try ChildProcess.writeFile(directory + "/routes.json", config)
        let gateway = try GatewayProcess.start(
            configPath: directory + "/routes.json", directory: directory, port: port, adminPort: adminPort)
        let admin = AdminClient(port: adminPort)
        #expect(Poll.until(timeoutMs: 5000) { admin.readyStatus() == 200 })

        let idle = try RawClient(port: port)
        #expect(try idle.get("/").status == 200)
        let inFlight = try RawClient(port: port, timeoutMs: 8000)
        try inFlight.send("GET /slow HTTP/1.1\r\nHost: ops.test\r\n\r\n")
        #expect(slow.waitForRequests(1).count == 1, "the slow request never reached its upstream")

        let signalled = TestSocket.nowMs()
        gateway.signal(SIGTERM)
        #expect(Poll.until(timeoutMs: 1000, intervalMs: 2) { admin.readyStatus() == 503 }, "/readyz not 503 at once")

        // Within the grace the listener still accepts (load balancers are still sending).
        let late = try RawClient(port: port)
        let lateResponse = try late.get("/")
        #expect(lateResponse.status == 200 && lateResponse.bodyText == "fast", "\(lateResponse)")
        #expect(TestSocket.nowMs() - signalled < DrainTests.graceMs, "too slow to test the grace")

        // After the grace: new connections are refused while the slow request is still running.
        let refused = Poll.until(timeoutMs: DrainTests.graceMs + 3000, intervalMs: 5) {
            guard let fd = try? TestSocket.connect(port: port, timeoutMs: 500) else { return true }
            close(fd)
            return false
        }
        #expect(refused, "the listener kept accepting after drain_grace_ms")
        #expect(gateway.isRunning, "the gateway exited before its request in flight finished")
        #expect(admin.readyStatus() == 503, "/readyz must stay 503 while draining")
        #expect(idle.serverClosed(), "the idle keep-alive connection was not closed")

        let response = try inFlight.readResponse()
        #expect(response.status == 200 && response.bodyText == "slow", "\(response)")
        #expect(response.header("connection")?.lowercased() == "close", "\(response.head)")
        #expect(inFlight.serverClosed())

        let ended = gateway.child.wait(timeoutMs: DrainTests.timeoutMs)
        #expect(ended == .exited(0), "ended: \(String(describing: ended))\n\(gateway.stdout.suffix(2000))")
        #expect(TestSocket.nowMs() - signalled < DrainTests.timeoutMs)
        let drained = gateway.logLines("drained")
        #expect(drained.count == 1 && drained.first?["connections_cut"] as? String == "0", "\(drained)")
    }

    /// An upgraded tunnel is in flight, not idle: it keeps working during the drain. What outlives
    /// `drain_timeout_ms` (the tunnel, a request the upstream never answers) is cut, and the exit is still 0.
    @Test func tunnelsLiveUntilTheDrainTimeoutThenEverythingIsCut() throws {
        let tunnel = try TestUpstream(.upgrade)
        let stuck = try TestUpstream(.neverAnswer)
        defer {
            tunnel.shutdown()
            stuck.shutdown()
        }
        let timeoutMs = 1500
        let port = try TestSocket.freePort()
        let adminPort = try TestSocket.freePort()
        let config = OpsConfig.document(
            admin: adminPort,
            listeners: [
                OpsConfig.listener(
                    "edge", port: port,
                    routes: [
                        OpsConfig.route(
                            "stuck", prefix: "/stuck", to: "stuck",
                            "\"timeout_ms\": 60000, \"retry\": { \"retries\": 0 }"),
                        OpsConfig.route("ws", prefix: "/", to: "tunnel"),
                    ])
            ],
            upstreams: ["tunnel": tunnel.port, "stuck": stuck.port],
            limits: "{ \"drain_grace_ms\": 0, \"drain_timeout_ms\": \(timeoutMs) }", watch: false)
        let directory = try GatewayProcess.makeTempDirectory()
        try ChildProcess.writeFile(directory + "/routes.json", config)
        let gateway = try GatewayProcess.start(
            configPath: directory + "/routes.json", directory: directory, port: port, adminPort: adminPort)
        let admin = AdminClient(port: adminPort)

        let client = try RawClient(port: port)
        let upgraded = try client.request(
            "GET /ws HTTP/1.1\r\nHost: ops.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
        #expect(upgraded.status == 101, "\(upgraded)")
        let waiting = try RawClient(port: port)
        try waiting.send("GET /stuck HTTP/1.1\r\nHost: ops.test\r\n\r\n")
        #expect(stuck.waitForRequests(1).count == 1)

        let signalled = TestSocket.nowMs()
        gateway.signal(SIGTERM)
        #expect(Poll.until(timeoutMs: 1000, intervalMs: 2) { admin.readyStatus() == 503 })
        #expect(
            Poll.until(timeoutMs: 3000, intervalMs: 5) {
                guard let fd = try? TestSocket.connect(port: port, timeoutMs: 500) else { return true }
                close(fd)
                return false
            }, "the listener kept accepting after a drain with no grace")
        // Draining, before the timeout: the tunnel still carries bytes both ways.
        let message = Array("ping during drain".utf8)
        try client.send(message)
        var echoed: [UInt8] = []
        while echoed.count < message.count {
            let bytes = try client.readAvailable()
            if bytes.isEmpty { break }
            echoed += bytes
        }
        #expect(echoed == message, "the tunnel was cut at the start of the drain")
        #expect(TestSocket.nowMs() - signalled < timeoutMs, "too slow to test the tunnel before the timeout")

        let ended = gateway.child.wait(timeoutMs: timeoutMs + 5000)
        #expect(ended == .exited(0), "ended: \(String(describing: ended))\n\(gateway.stdout.suffix(2000))")
        #expect(client.serverClosed(), "the tunnel outlived the gateway")
        #expect(waiting.serverClosed())
        let drained = gateway.logLines("drained")
        #expect(drained.first?["connections_cut"] as? String == "2", "\(drained)")
    }
}
