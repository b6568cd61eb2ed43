import Glibc
import MeshTestSupport
import Testing

/// SPEC §7: a removed listener stops accepting; the connections it already accepted are exchanges of the old
/// config. They may finish or be closed, but the gateway must keep running and its metrics stay readable.
@Suite struct RemovedListenerTests {
    @Test(arguments: [0, 1])
    func keepAliveConnectionOfARemovedListenerIsHarmless(removedIndex: Int) throws {
        let upstream = try TestUpstream(.fixed(UpstreamReply(body: "up")))
        defer { upstream.shutdown() }
        let ports = [try TestSocket.freePort(), try TestSocket.freePort()]
        let adminPort = try TestSocket.freePort()
        let names = ["first", "second"]
        func config(_ indices: [Int]) -> String {
            OpsConfig.document(
                admin: adminPort,
                listeners: indices.map {
                    OpsConfig.listener(
                        names[$0], port: ports[$0], routes: [OpsConfig.route("all", prefix: "/", to: "up")])
                },
                upstreams: ["up": upstream.port], watch: false)
        }
        let kept = 1 - removedIndex
        let directory = try GatewayProcess.makeTempDirectory()
        let path = directory + "/routes.json"
        try ChildProcess.writeFile(path, config([0, 1]))
        let gateway = try GatewayProcess.start(
            configPath: path, directory: directory, port: ports[kept], adminPort: adminPort, workers: 1)
        let admin = AdminClient(port: adminPort)

        let old = try RawClient(port: ports[removedIndex])
        #expect(try old.get("/").status == 200)
        try ChildProcess.writeFile(path, config([kept]))
        #expect(try admin.post("/reload").status == 200)

        // The old connection: another request is answered or the connection is closed; nothing else.
        if let response = try? old.get("/") { #expect(response.status == 200, "\(response)") }
        old.close()
        #expect(try RawClient(port: ports[kept]).get("/").status == 200)
        #expect(
            gateway.isRunning, "the gateway died:\n\(gateway.stdout.suffix(1500))\n\(gateway.child.stderr.suffix(1500))"
        )
        let metrics = try admin.get("/metrics")
        #expect(metrics.status == 200)
        // The kept listener's requests are counted under its own name, never under the removed one's.
        let keptCount = PrometheusText.value(
            of: "http_requests_total", labels: ["listener": names[kept]], in: metrics.bodyText)
        #expect(
            keptCount == 1, "\(metrics.bodyText.split(separator: "\n").filter { $0.hasPrefix("http_requests_total") })")
        #expect(gateway.stop() == .exited(0))
    }
}
