import Glibc
import MeshTestSupport
import Testing

/// Issue 10, item 6: running out of descriptors is the gateway's own failure. It must neither stall the
/// accept backlog nor count against an endpoint's circuit breaker (which every worker shares).
@Suite struct DescriptorExhaustionTests {
    /// The gateway's descriptor limit (hard and soft: it raises soft to hard at start).
    static let fileLimit = 96
    /// Clients connected at once, well past what the limit lets the gateway accept.
    static let clients = 160

    // Regression: issue 10 — an accept4 EMFILE returned from the edge-triggered accept loop and the clients
    // already in the backlog were never accepted; a socket() EMFILE was booked as the endpoint's connect
    // failure and opened its breaker.
    @Test func exhaustionPausesAcceptingAndLeavesTheBreakerAlone() throws {
        let upstream = try TestUpstream(.fixed(UpstreamReply(body: "up")))
        defer { upstream.shutdown() }
        let files = try OpsFiles()
        let (port, adminPort, directory, path) = (files.port, files.adminPort, files.directory, files.path)
        try files.writeEdge(upstream: upstream.port)
        let child = try ChildProcess(
            path: "/usr/bin/prlimit",
            arguments: [
                "--nofile=\(Self.fileLimit):\(Self.fileLimit)", try GatewayProcess.binaryPath(), "run", "--config",
                path, "--workers", "1",
            ],
            outputPrefix: directory + "/meshgate")
        defer {
            _ = child.terminate(signal: SIGKILL, graceMs: 2000)
            GatewayProcess.removeDirectory(directory)
        }
        let admin = AdminClient(port: adminPort)
        #expect(Poll.until(timeoutMs: 10_000) { try admin.get("/healthz").status == 200 })

        // Every client sends a request at once: the gateway runs out of descriptors part way through.
        var clients: [RawClient] = []
        for _ in 0..<Self.clients {
            let client = try RawClient(port: port, timeoutMs: 10_000)
            try client.send("GET / HTTP/1.1\r\nHost: ops.test\r\n\r\n")
            clients.append(client)
        }
        // The backlog is accepted once descriptors free up: each client gets a whole answer, 200 or, when no
        // upstream socket could be made at that moment, 503. Clients are read in order and closed after their
        // answer, which frees descriptors for the ones still waiting.
        var statuses: [Int: Int] = [:]
        for client in clients {
            let response = try client.readResponse()
            statuses[response.status, default: 0] += 1
            client.close()
        }
        #expect(Set(statuses.keys).isSubset(of: [200, 503]), "\(statuses)")
        #expect(statuses[200, default: 0] > 0, "\(statuses)")
        #expect(try RawClient(port: port).get("/").status == 200)
        // Our shortage is not the endpoint's failure: no connect failure booked, the breaker never left closed.
        #expect(try admin.metric("meshgate_upstream_requests_total", ["outcome": "connect_failure"]) ?? 0 == 0)
        #expect(try admin.metric("meshgate_circuit_breaker_state", ["upstream": "up"]) == 0)
        print("descriptor exhaustion: \(statuses)")
        #expect(child.terminate(signal: SIGTERM, graceMs: 5000) == .exited(0))
    }
}
