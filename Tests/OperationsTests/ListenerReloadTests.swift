import Glibc
import MeshTestSupport
import Testing

/// SPEC §7 reloads that change listeners: a listener that cannot bind rejects the whole reload (nothing of it
/// stays bound), and a listener renamed on the same address keeps its port.
@Suite struct ListenerReloadTests {
    struct World {
        let upstream: TestUpstream
        let port: UInt16
        let adminPort: UInt16
        let path: String
        let gateway: GatewayProcess

        init() throws {
            upstream = try TestUpstream(.fixed(UpstreamReply(body: "up")))
            port = try TestSocket.freePort()
            adminPort = try TestSocket.freePort()
            let directory = try GatewayProcess.makeTempDirectory()
            path = directory + "/routes.json"
            try ChildProcess.writeFile(path, World.config([("edge", port)], admin: adminPort, upstream: upstream.port))
            gateway = try GatewayProcess.start(configPath: path, directory: directory, port: port, adminPort: adminPort)
        }

        func config(_ listeners: [(String, UInt16)]) -> String {
            World.config(listeners, admin: adminPort, upstream: upstream.port)
        }

        static func config(_ listeners: [(String, UInt16)], admin: UInt16, upstream: UInt16) -> String {
            OpsConfig.document(
                admin: admin,
                listeners: listeners.map {
                    OpsConfig.listener($0.0, port: $0.1, routes: [OpsConfig.route("all", prefix: "/", to: "up")])
                },
                upstreams: ["up": upstream], watch: false)
        }
    }

    @Test func aListenerThatCannotBindRejectsTheWholeReload() throws {
        let world = try World()
        defer { world.upstream.shutdown() }
        let (busyFD, busyPort) = try TestSocket.listen()
        defer { close(busyFD) }
        let freePort = try TestSocket.freePort()
        // "fresh" would bind; "busy" cannot (another process holds the port): neither may be left behind.
        try ChildProcess.writeFile(
            world.path, world.config([("edge", world.port), ("fresh", freePort), ("busy", busyPort)]))
        let reload = try AdminClient(port: world.adminPort).post("/reload")
        #expect(reload.status == 400, "\(reload)")
        #expect(
            (reload.jsonObject?["errors"] as? [String])?.contains { $0.contains("\(busyPort)") } == true, "\(reload)")
        #expect(throws: (any Error).self, "the rejected reload left listener 'fresh' bound") {
            close(try TestSocket.connect(port: freePort, timeoutMs: 500))
        }
        #expect(try RawClient(port: world.port).get("/").bodyText == "up")
        #expect(try AdminClient(port: world.adminPort).get("/config").jsonObject?["generation"] as? Int == 1)
        #expect(world.gateway.stop() == .exited(0))
    }

    /// Renaming a listener (same address) is a valid config: it starts fine from scratch, so a reload must
    /// apply it too, without a window where the port refuses connections.
    @Test func renamingAListenerKeepsItsPort() throws {
        let world = try World()
        defer { world.upstream.shutdown() }
        try ChildProcess.writeFile(world.path, world.config([("renamed", world.port)]))
        let reload = try AdminClient(port: world.adminPort).post("/reload")
        #expect(
            reload.status == 200,
            "renaming listener 'edge' to 'renamed' on the same port was rejected: \(reload.bodyText)")
        #expect(try RawClient(port: world.port).get("/").bodyText == "up")
        let document = try AdminClient(port: world.adminPort).get("/config").jsonObject
        let listeners = (document?["config"] as? [String: Any])?["listeners"] as? [[String: Any]]
        #expect(listeners?.first?["name"] as? String == "renamed", "\(String(describing: document))")
        #expect(world.gateway.stop() == .exited(0))
    }
}
