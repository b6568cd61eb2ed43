import Glibc
import MeshTestSupport
import Testing

/// SPEC §12 binary upgrade: SIGUSR2 starts the binary at the same path with the same arguments and hands it
/// the listening sockets; once it is ready the old process drains (SPEC §7). Load runs through every upgrade
/// (keep-alive and one-shot connections): nothing may fail or be reset. In-flight requests and tunnels finish
/// on the old process. A new binary that fails leaves the old one serving.
@Suite struct BinaryUpgradeTests {
    static let handedOver = "binary upgrade: the new process is ready; draining"
    static let failed = "binary upgrade failed; this process keeps serving"

    /// Sends SIGUSR2 to `pid` and waits (bounded) for the `count`th handover line; returns the new pid.
    static func upgrade(_ gateway: SpawnedGateway, from pid: pid_t, count: Int) throws -> pid_t {
        kill(pid, SIGUSR2)
        var lines: [[String: Any]] = []
        let done = Poll.until(timeoutMs: 15_000, intervalMs: 5) {
            lines = gateway.logLines(handedOver)
            return lines.count >= count
        }
        guard done, let next = (lines.last?["pid"] as? String).flatMap({ pid_t($0) }) else {
            throw TestSupportError("upgrade \(count) from \(pid) did not complete:\n\(gateway.stdout.suffix(3000))")
        }
        return next
    }

    static func edgeConfig(_ files: OpsFiles, routes: [String], upstreams: [String: UInt16]) throws {
        let config = OpsConfig.document(
            admin: files.adminPort, listeners: [OpsConfig.listener("edge", port: files.port, routes: routes)],
            upstreams: upstreams, limits: "{ \"drain_timeout_ms\": 10000 }", watch: false)
        try ChildProcess.writeFile(files.path, config)
    }

    @Test func twentyUpgradesUnderLoadLoseNoRequest() throws {
        let upstream = try TestUpstream(.fixed(UpstreamReply(body: "steady")))
        defer { upstream.shutdown() }
        let files = try OpsFiles()
        defer { GatewayProcess.removeDirectory(files.directory) }
        try BinaryUpgradeTests.edgeConfig(
            files, routes: [OpsConfig.route("all", prefix: "/", to: "up")], upstreams: ["up": upstream.port])
        let gateway = try SpawnedGateway(
            binary: try GatewayProcess.binaryPath(), arguments: SpawnedGateway.arguments(config: files.path),
            directory: files.directory)
        var pids = [gateway.pid]
        defer { for pid in pids { kill(pid, SIGKILL) } }
        try gateway.waitUntilListening(files.port)
        try gateway.waitUntilStarted()
        let admin = AdminClient(port: files.adminPort)

        let load = UpgradeLoad(port: files.port, keepAlive: 3, oneShot: 2, body: "steady")
        for round in 1...20 {
            let before = load.okCount
            pids.append(try BinaryUpgradeTests.upgrade(gateway, from: pids.last!, count: round))
            // The new process answers the admin listener it inherited, and the load goes on through it.
            #expect(admin.readyStatus() == 200, "round \(round): /readyz")
            #expect(Poll.until(timeoutMs: 5000) { load.okCount > before + 20 }, "round \(round): load stalled")
        }
        let tally = load.stop()
        #expect(tally.failed == 0 && tally.resets == 0, "\(tally.failed) failed, \(tally.resets) resets: \(tally.failures)")
        print("binary upgrade under load: 20 upgrades, \(tally.ok) requests, \(tally.newConnections) connections")

        // Every old process drained and exited; the first (this test's child) with 0.
        #expect(gateway.wait(timeoutMs: 15_000) == 0, "\(gateway.stdout.suffix(2000))")
        let old = pids.dropLast()
        #expect(Poll.until(timeoutMs: 15_000) { !old.contains(where: SpawnedGateway.isAlive) }, "old processes left")
        var cut: [String] = []
        let drained = Poll.until(timeoutMs: 5000) {
            cut = gateway.logLines("drained").compactMap { $0["connections_cut"] as? String }
            return cut.count == 20
        }
        #expect(drained && cut.allSatisfy { $0 == "0" }, "\(cut)")
        let last = pids.last!
        #expect(SpawnedGateway.isAlive(last))
        kill(last, SIGTERM)
        #expect(Poll.until(timeoutMs: 15_000) { !SpawnedGateway.isAlive(last) }, "the last process did not exit")
    }

    @Test func inFlightRequestAndTunnelFinishOnTheOldProcess() throws {
        let slow = try TestUpstream(.slow(delayMs: 1500, reply: UpstreamReply(body: "slow")))
        let tunnel = try TestUpstream(.upgrade)
        let fast = try TestUpstream(.fixed(UpstreamReply(body: "fast")))
        defer {
            for upstream in [slow, tunnel, fast] { upstream.shutdown() }
        }
        let files = try OpsFiles()
        defer { GatewayProcess.removeDirectory(files.directory) }
        try BinaryUpgradeTests.edgeConfig(
            files,
            routes: [
                OpsConfig.route("slow", prefix: "/slow", to: "slow", "\"timeout_ms\": 8000, \"retry\": { \"retries\": 0 }"),
                OpsConfig.route("ws", prefix: "/ws", to: "tunnel"), OpsConfig.route("fast", prefix: "/", to: "fast"),
            ],
            upstreams: ["slow": slow.port, "tunnel": tunnel.port, "fast": fast.port])
        let gateway = try SpawnedGateway(
            binary: try GatewayProcess.binaryPath(), arguments: SpawnedGateway.arguments(config: files.path),
            directory: files.directory)
        var successor: pid_t = 0
        defer { if successor > 0 { kill(successor, SIGKILL) } }
        try gateway.waitUntilListening(files.port)
        try gateway.waitUntilStarted()

        let ws = try RawClient(port: files.port)
        let upgraded = try ws.request("GET /ws HTTP/1.1\r\nHost: ops.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
        #expect(upgraded.status == 101, "\(upgraded)")
        let inFlight = try RawClient(port: files.port, timeoutMs: 8000)
        try inFlight.send("GET /slow HTTP/1.1\r\nHost: ops.test\r\n\r\n")
        #expect(slow.waitForRequests(1).count == 1, "the slow request never reached its upstream")

        successor = try BinaryUpgradeTests.upgrade(gateway, from: gateway.pid, count: 1)
        #expect(try RawClient(port: files.port).get("/").bodyText == "fast", "the new process does not serve")
        // Both still belong to the old process, which waits for them.
        #expect(gateway.poll() == nil, "the old process exited with work in flight")
        let response = try inFlight.readResponse()
        #expect(response.status == 200 && response.bodyText == "slow", "\(response)")
        #expect(response.header("connection")?.lowercased() == "close", "\(response.head)")
        let message = Array("still the old process".utf8)
        try ws.send(message)
        var echoed: [UInt8] = []
        while echoed.count < message.count {
            let bytes = try ws.readAvailable()
            if bytes.isEmpty { break }
            echoed += bytes
        }
        #expect(echoed == message, "the tunnel broke at the upgrade")
        #expect(gateway.poll() == nil, "the old process exited while its tunnel was open")
        ws.close()
        #expect(gateway.wait(timeoutMs: 10_000) == 0, "\(gateway.stdout.suffix(2000))")
        #expect(Poll.until(timeoutMs: 5000) { gateway.logLines("drained").first?["connections_cut"] as? String == "0" })
        #expect(try RawClient(port: files.port).get("/").bodyText == "fast")
        kill(successor, SIGTERM)
        #expect(Poll.until(timeoutMs: 10_000) { !SpawnedGateway.isAlive(successor) })
    }

    @Test func failedUpgradeLeavesTheOldProcessServing() throws {
        let upstream = try TestUpstream(.fixed(UpstreamReply(body: "kept")))
        defer { upstream.shutdown() }
        let files = try OpsFiles()
        defer { GatewayProcess.removeDirectory(files.directory) }
        try BinaryUpgradeTests.edgeConfig(
            files, routes: [OpsConfig.route("all", prefix: "/", to: "up")], upstreams: ["up": upstream.port])
        // Started through a symlink: SIGUSR2 starts whatever the link names then (a release switch flips it).
        let link = files.directory + "/meshgate"
        let real = try GatewayProcess.binaryPath()
        guard symlink(real, link) == 0 else { throw TestSupportError.system("symlink") }
        let gateway = try SpawnedGateway(
            binary: link, arguments: SpawnedGateway.arguments(config: files.path), directory: files.directory)
        var successor: pid_t = 0
        defer { if successor > 0 { kill(successor, SIGKILL) } }
        try gateway.waitUntilListening(files.port)
        try gateway.waitUntilStarted()
        let client = try RawClient(port: files.port)
        #expect(try client.get("/").bodyText == "kept")

        // A "new release" that exits at once.
        unlink(link)
        guard symlink("/bin/false", link) == 0 else { throw TestSupportError.system("symlink") }
        kill(gateway.pid, SIGUSR2)
        var failures: [[String: Any]] = []
        #expect(Poll.until(timeoutMs: 10_000) {
            failures = gateway.logLines(BinaryUpgradeTests.failed)
            return !failures.isEmpty
        })
        let reason = failures.first?["error"] as? String ?? ""
        #expect(reason.contains("exited with code 1 before it was ready"), "\(failures)")
        #expect(gateway.poll() == nil)
        #expect(try client.get("/").bodyText == "kept", "the keep-alive connection broke")
        #expect(try RawClient(port: files.port).get("/").bodyText == "kept")
        #expect(AdminClient(port: files.adminPort).readyStatus() == 200)

        // The link back on a working binary: the next SIGUSR2 upgrades.
        unlink(link)
        guard symlink(real, link) == 0 else { throw TestSupportError.system("symlink") }
        successor = try BinaryUpgradeTests.upgrade(gateway, from: gateway.pid, count: 1)
        #expect(try RawClient(port: files.port).get("/").bodyText == "kept")
        client.close()
        #expect(gateway.wait(timeoutMs: 10_000) == 0)
        kill(successor, SIGTERM)
        #expect(Poll.until(timeoutMs: 10_000) { !SpawnedGateway.isAlive(successor) })
    }
}
