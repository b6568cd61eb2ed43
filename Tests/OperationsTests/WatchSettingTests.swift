import Glibc
import MeshTestSupport
import Testing

/// SPEC §7 file watching as the running config defines it, and `reload_errors` as a picture of the file now.
@Suite struct WatchSettingTests {
    struct World {
        let a: TestUpstream
        let b: TestUpstream
        let port: UInt16
        let adminPort: UInt16
        let files: ConfigDirectory
        let gateway: GatewayProcess

        init(watch: Bool) throws {
            a = try TestUpstream(.fixed(UpstreamReply(body: "A")))
            b = try TestUpstream(.fixed(UpstreamReply(body: "B")))
            port = try TestSocket.freePort()
            adminPort = try TestSocket.freePort()
            let directory = try GatewayProcess.makeTempDirectory()
            files = try ConfigDirectory(
                directory: directory, style: .rename,
                initial: World.config(port: port, admin: adminPort, a: a.port, b: b.port, to: "a", watch: watch))
            gateway = try GatewayProcess.start(
                configPath: files.path, directory: directory, port: port, adminPort: adminPort)
        }

        func config(to upstream: String, watch: Bool) -> String {
            World.config(port: port, admin: adminPort, a: a.port, b: b.port, to: upstream, watch: watch)
        }

        static func config(port: UInt16, admin: UInt16, a: UInt16, b: UInt16, to upstream: String, watch: Bool)
            -> String
        {
            OpsConfig.document(
                admin: admin,
                listeners: [
                    OpsConfig.listener("edge", port: port, routes: [OpsConfig.route("v", prefix: "/v", to: upstream)])
                ],
                upstreams: ["a": a, "b": b], watch: watch)
        }

        func shutdown() {
            a.shutdown()
            b.shutdown()
        }
    }

    /// Started with `watch_config: false`, then reloaded (POST /reload) with `watch_config: true`: from then on
    /// a file change must reload by itself, as it would had the gateway started with that config.
    @Test func watchConfigTurnedOnByAReloadTakesEffect() throws {
        let world = try World(watch: false)
        defer { world.shutdown() }
        try world.files.write(world.config(to: "a", watch: true))
        #expect(try AdminClient(port: world.adminPort).post("/reload").status == 200)
        try world.files.write(world.config(to: "b", watch: true))
        let client = try RawClient(port: world.port)
        #expect(
            Poll.until(timeoutMs: 2000) { try client.get("/v").bodyText == "B" },
            "watch_config: true from a reload is ignored: the file change was not applied")
        #expect(world.gateway.stop() == .exited(0))
    }

    /// A bad edit reverted to the running bytes (e.g. `git checkout routes.json`): the file is good again, so
    /// `/config` must stop reporting the old edit's errors (alerts on `reload_errors` would never clear).
    @Test func revertingABadEditClearsReloadErrors() throws {
        let world = try World(watch: true)
        defer { world.shutdown() }
        let admin = AdminClient(port: world.adminPort)
        let good = world.config(to: "a", watch: true)
        try world.files.write(good + "}")
        #expect(
            Poll.until(timeoutMs: 3000) {
                (try admin.get("/config").jsonObject?["reload_errors"] as? [String])?.isEmpty == false
            }, "the bad edit was not reported")
        try world.files.write(good)
        let cleared = Poll.until(timeoutMs: 2000) {
            (try admin.get("/config").jsonObject?["reload_errors"] as? [String])?.isEmpty == true
        }
        let shown = try admin.get("/config").bodyText.prefix(300)
        #expect(cleared, "reload_errors still shows the reverted edit: \(shown)")
        #expect(try RawClient(port: world.port).get("/v").bodyText == "A")
        #expect(world.gateway.stop() == .exited(0))
    }
}
