import Glibc
import MeshTestSupport
import Testing

/// SPEC §7 / issue 6: the config file is rewritten 50 times (25 per swap style, the two styles in parallel)
/// while keep-alive clients send requests continuously. No request may fail, and each new route must be in
/// force within 1 s of the write.
@Suite struct ReloadUnderLoadTests {
    static let rewrites = 25
    /// The bound on "the new route takes effect" (debounce is 100 ms; the rest is slack for a loaded machine).
    static let effectBoundMs = 1000

    @Test(arguments: [ConfigDirectory.Style.rename, .kubernetes])
    func rewritesUnderLoadLoseNoRequest(style: ConfigDirectory.Style) throws {
        let a = try TestUpstream(.fixed(UpstreamReply(body: "A")))
        let b = try TestUpstream(.fixed(UpstreamReply(body: "B")))
        defer {
            a.shutdown()
            b.shutdown()
        }
        let port = try TestSocket.freePort()
        let adminPort = try TestSocket.freePort()
        func version(_ upstream: String) -> String {
            OpsConfig.document(
                admin: adminPort,
                listeners: [
                    OpsConfig.listener(
                        "edge", port: port,
                        routes: [
                            OpsConfig.route("v", prefix: "/v", to: upstream, "\"retry\": { \"retries\": 0 }")
                        ])
                ],
                upstreams: ["a": a.port, "b": b.port], watch: true)
        }
        let directory = try GatewayProcess.makeTempDirectory()
        let files = try ConfigDirectory(directory: directory, style: style, initial: version("a"))
        let gateway = try GatewayProcess.start(
            configPath: files.path, directory: directory, port: port, adminPort: adminPort)
        let admin = AdminClient(port: adminPort)

        let load = LoadClients(port: port, clients: 4, path: "/v", acceptedBodies: ["A", "B"])
        let checker = try RawClient(port: port)
        #expect(try checker.get("/v").bodyText == "A")
        var slowest = 0
        for index in 1...ReloadUnderLoadTests.rewrites {
            let expected = index % 2 == 1 ? "B" : "A"
            let before = load.okCount
            let written = TestSocket.nowMs()
            try files.write(version(expected.lowercased()))
            let took = Poll.until(timeoutMs: ReloadUnderLoadTests.effectBoundMs, intervalMs: 5) {
                try checker.get("/v").bodyText == expected
            }
            #expect(took, "rewrite \(index) (\(style)): /v did not reach \(expected) within 1 s")
            slowest = max(slowest, TestSocket.nowMs() - written)
            // Keep the clients going across every swap: wait (bounded) until they made progress.
            #expect(Poll.until(timeoutMs: 5000) { load.okCount > before + 4 }, "load clients stalled")
        }
        let tally = load.stop()
        #expect(tally.failed == 0, "\(tally.failed) failed requests (\(style)): \(tally.failures)")
        #expect(tally.ok > ReloadUnderLoadTests.rewrites * 4)

        // Every write was exactly one reload: the old-directory removal and temp-file events carried
        // identical bytes and were ignored.
        let document = try admin.get("/config").jsonObject
        #expect(document?["generation"] as? Int == 1 + ReloadUnderLoadTests.rewrites, "\(String(describing: document))")
        #expect(
            try admin.metric("meshgate_config_reloads_total", ["result": "success"])
                == Double(ReloadUnderLoadTests.rewrites))
        #expect(try admin.metric("meshgate_config_reloads_total", ["result": "failure"]) ?? 0 == 0)
        print("reload under load (\(style)): \(tally.ok) requests, slowest route switch \(slowest) ms")
        #expect(gateway.isRunning)
        #expect(gateway.stop() == .exited(0))
    }

    /// A burst of writes with no pause (an editor saving repeatedly, a config tool writing file by file): the
    /// debounce may merge them, but the last one must be in force within 1 s of the burst's end.
    @Test func burstOfWritesEndsOnTheLastOne() throws {
        let a = try TestUpstream(.fixed(UpstreamReply(body: "A")))
        let b = try TestUpstream(.fixed(UpstreamReply(body: "B")))
        defer {
            a.shutdown()
            b.shutdown()
        }
        let port = try TestSocket.freePort()
        let adminPort = try TestSocket.freePort()
        func version(_ upstream: String) -> String {
            OpsConfig.document(
                admin: adminPort,
                listeners: [
                    OpsConfig.listener("edge", port: port, routes: [OpsConfig.route("v", prefix: "/v", to: upstream)])
                ],
                upstreams: ["a": a.port, "b": b.port], watch: true)
        }
        let directory = try GatewayProcess.makeTempDirectory()
        let files = try ConfigDirectory(directory: directory, style: .kubernetes, initial: version("a"))
        let gateway = try GatewayProcess.start(
            configPath: files.path, directory: directory, port: port, adminPort: adminPort)
        for index in 1...21 { try files.write(version(index % 2 == 1 ? "b" : "a")) }
        let client = try RawClient(port: port)
        #expect(Poll.until(timeoutMs: ReloadUnderLoadTests.effectBoundMs) { try client.get("/v").bodyText == "B" })
        // Whatever was merged, nothing was rejected and at least one reload happened.
        let admin = AdminClient(port: adminPort)
        #expect(try admin.metric("meshgate_config_reloads_total", ["result": "failure"]) ?? 0 == 0)
        #expect(try admin.metric("meshgate_config_reloads_total", ["result": "success"]) ?? 0 >= 1)
        #expect(gateway.stop() == .exited(0))
    }
}
