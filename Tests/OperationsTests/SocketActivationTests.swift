import Glibc
import MeshTestSupport
import Testing

/// SPEC §12, `LISTEN_FDS`: the test binds the sockets (as systemd's socket unit would) and passes them as 3 and
/// 4 with `LISTEN_PID` set to the gateway's pid. The listener whose address matches uses the inherited socket
/// (a connection queued before the gateway started is answered; a bind of its own would fail, since the test
/// holds the address without SO_REUSEPORT), the unmatched one is closed and logged.
@Suite struct SocketActivationTests {
    @Test func listenerUsesTheInheritedSocketAndUnmatchedOnesAreClosed() throws {
        let upstream = try TestUpstream(.fixed(UpstreamReply(body: "activated")))
        defer { upstream.shutdown() }
        let files = try OpsFiles()
        defer { GatewayProcess.removeDirectory(files.directory) }
        let matched = try TestSocket.listen(port: files.port)
        let stray = try TestSocket.listen()
        var held = [matched.fd, stray.fd]
        defer { for fd in held { close(fd) } }
        try files.writeEdge(upstream: upstream.port)

        // Queued in the inherited socket's backlog before meshgate exists: socket activation's promise.
        let early = try RawClient(port: files.port, timeoutMs: 10_000)
        try early.send("GET /early HTTP/1.1\r\nHost: ops.test\r\n\r\n")

        let gateway = try SpawnedGateway(
            binary: try GatewayProcess.binaryPath(), arguments: SpawnedGateway.arguments(config: files.path),
            directory: files.directory, environment: ["LISTEN_FDS": "2", "LISTEN_FDNAMES": "edge:stray"],
            passing: held, setListenPID: true)
        // systemd keeps its copies; this test closes its own, so only the gateway holds them from now on.
        for fd in held { close(fd) }
        held = []
        let answer = try early.readResponse()
        #expect(answer.status == 200 && answer.bodyText == "activated", "\(answer)\n\(gateway.stdout)")
        for _ in 0..<4 { #expect(try RawClient(port: files.port).get("/").bodyText == "activated") }

        // The log is written by its own thread: wait (bounded) for the lines.
        #expect(
            Poll.until(timeoutMs: 5000) {
                gateway.logLines("started").first?["inherited_sockets"] as? String == "1 from LISTEN_FDS"
            }, "\(gateway.stdout)")
        #expect(
            Poll.until(timeoutMs: 5000) {
                let unmatched = gateway.logLines("inherited socket matches no listener; closed")
                return unmatched.count == 1 && unmatched.first?["address"] as? String == "127.0.0.1:\(stray.port)"
            }, "\(gateway.stdout)")
        // Nobody holds the stray socket any more: its port refuses.
        #expect(
            Poll.until(timeoutMs: 2000) { (try? TestSocket.connect(port: stray.port, timeoutMs: 500)) == nil },
            "the unmatched inherited socket was not closed")
        #expect(gateway.poll() == nil, "\(gateway.stdout)")
        kill(gateway.pid, SIGTERM)
        #expect(gateway.wait(timeoutMs: 10_000) == 0)
    }

    /// `LISTEN_PID` names another process (the variables leaked from a parent): they are ignored, and the
    /// gateway binds its own listener.
    @Test func listenFDsForAnotherProcessAreIgnored() throws {
        let upstream = try TestUpstream(.fixed(UpstreamReply(body: "own")))
        defer { upstream.shutdown() }
        let files = try OpsFiles()
        defer { GatewayProcess.removeDirectory(files.directory) }
        try files.writeEdge(upstream: upstream.port)
        let gateway = try SpawnedGateway(
            binary: try GatewayProcess.binaryPath(), arguments: SpawnedGateway.arguments(config: files.path),
            directory: files.directory, environment: ["LISTEN_FDS": "1", "LISTEN_PID": "1"])
        try gateway.waitUntilListening(files.port)
        #expect(try RawClient(port: files.port).get("/").bodyText == "own")
        #expect(
            Poll.until(timeoutMs: 5000) {
                gateway.logLines("started").first?["inherited_sockets"] as? String == "none"
            }, "\(gateway.stdout)")
        kill(gateway.pid, SIGTERM)
        #expect(gateway.wait(timeoutMs: 10_000) == 0)
    }

    /// A socket-activated gateway upgrades like any other: the one inherited socket (shared by both workers)
    /// goes on to the new process, with the admin listener, and keeps answering.
    @Test func socketActivatedGatewayHandsItsSocketOnAtAnUpgrade() throws {
        let upstream = try TestUpstream(.fixed(UpstreamReply(body: "activated")))
        defer { upstream.shutdown() }
        let files = try OpsFiles()
        defer { GatewayProcess.removeDirectory(files.directory) }
        let socket = try TestSocket.listen(port: files.port)
        try files.writeEdge(upstream: upstream.port)
        let gateway = try SpawnedGateway(
            binary: try GatewayProcess.binaryPath(), arguments: SpawnedGateway.arguments(config: files.path),
            directory: files.directory, environment: ["LISTEN_FDS": "1"], passing: [socket.fd], setListenPID: true)
        close(socket.fd)
        try gateway.waitUntilStarted()
        let successor = try BinaryUpgradeTests.upgrade(gateway, from: gateway.pid, count: 1)
        defer { kill(successor, SIGKILL) }
        #expect(gateway.wait(timeoutMs: 10_000) == 0, "\(gateway.stdout)")
        // Only the new process holds the socket now: it answers, and the admin listener moved with it.
        for _ in 0..<4 { #expect(try RawClient(port: files.port).get("/").bodyText == "activated") }
        #expect(AdminClient(port: files.adminPort).readyStatus() == 200)
        #expect(
            Poll.until(timeoutMs: 5000) {
                gateway.logLines("started").last?["inherited_sockets"] as? String == "3 from binary upgrade"
            }, "\(gateway.stdout)")
        kill(successor, SIGTERM)
        #expect(Poll.until(timeoutMs: 10_000) { !SpawnedGateway.isAlive(successor) })
    }
}
