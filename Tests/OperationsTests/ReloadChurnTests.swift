import Glibc
import MeshTestSupport
import Testing

/// Issue 10: object lifetimes across config generations. Reloads and endpoint changes retire pools, renumber
/// upstreams, providers and listeners while keep-alive exchanges are in flight; nothing an exchange or a
/// connection holds may be freed under it or be looked up with another generation's index.
@Suite struct ReloadChurnTests {
    static let reloads = 50

    /// Upstream ports by name: three answering ones (`a`, `b`, `c` answer their letter) and `r`, which resets
    /// every request (a retry on another endpoint answers instead).
    struct Upstreams {
        let a: TestUpstream
        let b: TestUpstream
        let c: TestUpstream
        let r: TestUpstream

        init() throws {
            a = try TestUpstream(.fixed(UpstreamReply(body: "A")))
            b = try TestUpstream(.fixed(UpstreamReply(body: "B")))
            c = try TestUpstream(.fixed(UpstreamReply(body: "C")))
            r = try TestUpstream(.reset(partial: []))
        }

        func shutdown() { for u in [a, b, c, r] { u.shutdown() } }
    }

    /// Config version `i`: upstream order, endpoint sets, listener order and names, route order and the extra
    /// listener all change from one version to the next, so every index a stale object could use moves.
    static func version(_ i: Int, _ u: Upstreams, edge: UInt16, side: UInt16, admin: UInt16) -> String {
        let answering = [u.a.port, u.b.port, u.c.port]
        let poolSets: [[UInt16]] = [
            [answering[0]], answering, [answering[1], answering[2]], [answering[2], answering[0]],
        ]
        let pool = poolSets[i % poolSets.count]
        let flaky = [u.r.port, answering[i % 3]]
        var upstreams = [
            "\"pool\": \(upstream(pool))",
            "\"flaky\": \(upstream(i % 2 == 0 ? flaky : flaky.reversed()))",
            "\"spare\": \(upstream([answering[(i + 1) % 3]]))",
        ]
        upstreams = Array(upstreams[(i % 3)...] + upstreams[..<(i % 3)])
        let retry = "\"retry\": { \"retries\": 2, \"backoff_base_ms\": 1, \"backoff_max_ms\": 5 }"
        var routes = [
            OpsConfig.route("v", prefix: "/v", to: "pool", retry),
            OpsConfig.route("flaky", prefix: "/flaky", to: "flaky", retry),
        ]
        if i % 2 == 1 { routes.insert(OpsConfig.route("spare", prefix: "/spare", to: "spare"), at: 0) }
        var listeners = [OpsConfig.listener(i % 4 < 2 ? "edge" : "edge-renamed", port: edge, routes: routes)]
        if i % 3 != 0 {
            let sideListener = OpsConfig.listener(
                "side", port: side, routes: [OpsConfig.route("s", prefix: "/", to: i % 2 == 0 ? "pool" : "spare")])
            listeners.insert(sideListener, at: i % 3 == 1 ? 0 : 1)
        }
        return """
            {
              "version": 1,
              "admin": { "address": "127.0.0.1:\(admin)" },
              "listeners": [\(listeners.joined(separator: ", "))],
              "upstreams": { \(upstreams.joined(separator: ", ")) },
              "logging": { "level": "info", "access_log": false },
              "watch_config": false
            }
            """
    }

    /// An upstream with a short pool idle timeout, so pooled connections also expire during the churn.
    static func upstream(_ ports: [UInt16]) -> String {
        let endpoints = ports.map { "\"127.0.0.1:\($0)\"" }.joined(separator: ", ")
        return "{ \"endpoints\": [\(endpoints)], \"pool\": { \"idle_timeout_ms\": 40 } }"
    }

    @Test func fiftyReloadsUnderKeepAliveTrafficLoseNothing() throws {
        let u = try Upstreams()
        defer { u.shutdown() }
        let edge = try TestSocket.freePort()
        let side = try TestSocket.freePort()
        let adminPort = try TestSocket.freePort()
        let directory = try GatewayProcess.makeTempDirectory()
        let path = directory + "/routes.json"
        try ChildProcess.writeFile(path, Self.version(0, u, edge: edge, side: side, admin: adminPort))
        let gateway = try GatewayProcess.start(configPath: path, directory: directory, port: edge, adminPort: adminPort)
        let admin = AdminClient(port: adminPort)
        let started = TestSocket.nowMs()

        let steady = LoadClients(port: edge, clients: 3, path: "/v", acceptedBodies: ["A", "B", "C"], maxMs: 50_000)
        let flaky = LoadClients(port: edge, clients: 2, path: "/flaky", acceptedBodies: ["A", "B", "C"], maxMs: 50_000)
        for i in 1...Self.reloads {
            let before = steady.okCount + flaky.okCount
            try ChildProcess.writeFile(path, Self.version(i, u, edge: edge, side: side, admin: adminPort))
            let reload = try admin.post("/reload")
            #expect(reload.status == 200, "reload \(i): \(reload)")
            // The side listener (when present) answers from the upstream its own generation routes to.
            if i % 3 != 0, let response = try? RawClient(port: side).get("/s") {
                #expect(response.status == 200 && ["A", "B", "C"].contains(response.bodyText), "\(response)")
            }
            // Traffic keeps flowing across every swap (bounded wait, no sleep).
            #expect(Poll.until(timeoutMs: 5000) { steady.okCount + flaky.okCount > before + 3 }, "clients stalled")
            #expect(gateway.isRunning, "the gateway died at reload \(i):\n\(gateway.child.stderr.suffix(2000))")
            if !gateway.isRunning { break }
        }
        let steadyTally = steady.stop()
        let flakyTally = flaky.stop()
        #expect(steadyTally.failed == 0, "\(steadyTally.failed) failed: \(steadyTally.failures)")
        #expect(flakyTally.failed == 0, "\(flakyTally.failed) failed: \(flakyTally.failures)")
        #expect(steadyTally.ok > Self.reloads && flakyTally.ok > Self.reloads)
        #expect(u.r.connectionCount > 0, "the resetting endpoint was never tried: retries were not exercised")
        #expect(try admin.metric("meshgate_config_reloads_total", ["result": "success"]) == Double(Self.reloads))
        #expect(try admin.get("/metrics").status == 200)
        #expect(TestSocket.nowMs() - started < 60_000, "the churn took over a minute")
        #expect(gateway.stop() == .exited(0))
    }

    // Regression: issue 10 — a keep-alive connection of a listener a reload removed routed its next request
    // with the old config's routes into the new config's upstream array (wrong upstream, or out of range).
    @Test func connectionsOfARemovedListenerNeverReachAnotherGenerationsUpstream() throws {
        let a = try TestUpstream(.fixed(UpstreamReply(body: "A")))
        let b = try TestUpstream(.fixed(UpstreamReply(body: "B")))
        let c = try TestUpstream(.slow(delayMs: 300, reply: UpstreamReply(body: "C")))
        defer { for u in [a, b, c] { u.shutdown() } }
        let edge = try TestSocket.freePort()
        let side = try TestSocket.freePort()
        let adminPort = try TestSocket.freePort()
        func config(side sideRoute: String?, order: [String]) -> String {
            let all = ["a": a.port, "b": b.port, "c": c.port]
            var listeners = [
                OpsConfig.listener("edge", port: edge, routes: [OpsConfig.route("v", prefix: "/", to: "a")])
            ]
            if let sideRoute {
                listeners.append(
                    OpsConfig.listener("side", port: side, routes: [OpsConfig.route("s", prefix: "/", to: sideRoute)]))
            }
            let upstreams = order.map { "\"\($0)\": \(Self.upstream([all[$0]!]))" }
            return """
                { "version": 1, "admin": { "address": "127.0.0.1:\(adminPort)" },
                  "listeners": [\(listeners.joined(separator: ", "))],
                  "upstreams": { \(upstreams.joined(separator: ", ")) },
                  "logging": { "level": "info", "access_log": false }, "watch_config": false }
                """
        }
        let directory = try GatewayProcess.makeTempDirectory()
        let path = directory + "/routes.json"
        // `side` routes to `c`, the last upstream (index 2).
        try ChildProcess.writeFile(path, config(side: "c", order: ["a", "b", "c"]))
        let gateway = try GatewayProcess.start(
            configPath: path, directory: directory, port: edge, adminPort: adminPort, workers: 1)
        let admin = AdminClient(port: adminPort)
        let idle = try RawClient(port: side)
        #expect(try idle.get("/").bodyText == "C")
        let inFlight = try RawClient(port: side)
        try inFlight.send("GET / HTTP/1.1\r\nHost: ops.test\r\n\r\n")
        _ = c.waitForRequests(2)

        // `side` is gone and the upstreams are renumbered: index 2 no longer exists, index 1 is `b`.
        try ChildProcess.writeFile(path, config(side: nil, order: ["b", "a"]))
        #expect(try admin.post("/reload").status == 200)

        // The exchange in flight finishes on its own generation, and its connection closes after it.
        let answered = try inFlight.readResponse()
        #expect(answered.bodyText == "C", "\(answered)")
        #expect(answered.header("connection")?.lowercased() == "close", "\(answered)")
        // The idle connection was closed by the reload; a request on it is never answered by another upstream.
        if let response = try? idle.get("/") { #expect(response.bodyText == "C", "\(response)") }
        #expect(try RawClient(port: edge).get("/").bodyText == "A")
        #expect(b.requests.isEmpty, "a request of the removed listener reached b: \(b.requests.count)")
        #expect(gateway.isRunning, "the gateway died:\n\(gateway.child.stderr.suffix(2000))")
        #expect(gateway.stop() == .exited(0))
    }
}

/// Issue 10, item 4: limits of a reloaded config apply to the next request and the next accept, not only to
/// connections opened after a restart.
@Suite struct ReloadLimitsTests {
    // Regression: issue 10 — the worker kept the parser limits of the first config: a lowered
    // `max_header_bytes` was not enforced after a reload.
    @Test func aLoweredMaxHeaderBytesAppliesToTheNextRequestOfAKeepAliveConnection() throws {
        let upstream = try TestUpstream(.fixed(UpstreamReply(body: "up")))
        defer { upstream.shutdown() }
        let files = try OpsFiles()
        let (port, adminPort, directory, path) = (files.port, files.adminPort, files.directory, files.path)
        try files.writeEdge(upstream: upstream.port)
        let gateway = try GatewayProcess.start(
            configPath: path, directory: directory, port: port, adminPort: adminPort, workers: 1)
        let big = "GET / HTTP/1.1\r\nHost: ops.test\r\nx-pad: \(String(repeating: "p", count: 4000))\r\n\r\n"
        let client = try RawClient(port: port)
        #expect(try client.request(big).status == 200)

        try files.writeEdge(upstream: upstream.port, limits: #"{"max_header_bytes": 2048}"#)
        #expect(try AdminClient(port: adminPort).post("/reload").status == 200)
        #expect(try client.request(big).status == 431, "the keep-alive connection kept the old limit")
        #expect(try RawClient(port: port).request(big).status == 431, "a new connection kept the old limit")
        #expect(gateway.stop() == .exited(0))
    }

    // Regression: issue 10 — the accept cap stayed at the first config's `max_connections`: clients waiting in
    // the backlog were not accepted after a reload raised it.
    @Test func aRaisedMaxConnectionsAcceptsTheBacklogAtOnce() throws {
        let upstream = try TestUpstream(.fixed(UpstreamReply(body: "up")))
        defer { upstream.shutdown() }
        let files = try OpsFiles()
        let (port, adminPort, directory, path) = (files.port, files.adminPort, files.directory, files.path)
        try files.writeEdge(upstream: upstream.port, limits: #"{"max_connections": 1}"#)
        let gateway = try GatewayProcess.start(
            configPath: path, directory: directory, port: port, adminPort: adminPort, workers: 1)
        let first = try RawClient(port: port)
        #expect(try first.get("/").status == 200)
        // The second client waits in the backlog while the first stays open (SPEC §4).
        let second = try RawClient(port: port)
        try second.send("GET / HTTP/1.1\r\nHost: ops.test\r\n\r\n")

        try files.writeEdge(upstream: upstream.port, limits: #"{"max_connections": 100}"#)
        #expect(try AdminClient(port: adminPort).post("/reload").status == 200)
        #expect(try second.readResponse().status == 200)
        #expect(try first.get("/").status == 200)
        #expect(gateway.stop() == .exited(0))
    }
}
