import Glibc
import MeshTestSupport
import Testing

/// SPEC §7: an invalid file never replaces the running config. Each error is logged (with its JSON path or its
/// line and column), shown on `/config` as `reload_errors`, and counted; SIGHUP and `POST /reload` reload too.
@Suite struct InvalidReloadTests {
    static let rejected = "config reload rejected; the running config stays"

    @Test func invalidEditsKeepTheOldConfigAndAreReported() throws {
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
        let files = try ConfigDirectory(directory: directory, style: .rename, initial: version("a"))
        let gateway = try GatewayProcess.start(
            configPath: files.path, directory: directory, port: port, adminPort: adminPort)
        let admin = AdminClient(port: adminPort)
        let client = try RawClient(port: port)

        // 1. Syntax error (an unclosed object), seen by the file watcher.
        try files.write(String(version("b").dropLast(2)))
        try expectRejection(gateway, admin, count: 1, trigger: "file change", containing: "invalid JSON")
        #expect(try client.get("/v").bodyText == "A", "the old config must keep serving")
        let syntax = try reloadErrors(admin)
        #expect(syntax.contains { $0.contains("routes.json:") && $0.contains("invalid JSON") }, "\(syntax)")

        // 2. A route naming an upstream that does not exist: the error names its JSON path.
        try files.write(version("nowhere"))
        let path = "listeners[0].routes[0].upstream"
        try expectRejection(gateway, admin, count: 2, trigger: "file change", containing: path)
        #expect(try client.get("/v").bodyText == "A")
        let unknown = try reloadErrors(admin)
        #expect(unknown.contains { $0.contains(path) && $0.contains("unknown upstream") }, "\(unknown)")
        #expect(try admin.get("/config").jsonObject?["generation"] as? Int == 1)

        // 3. SIGHUP with the bad file: rejected again, logged with its trigger.
        gateway.signal(SIGHUP)
        try expectRejection(gateway, admin, count: 3, trigger: "SIGHUP", containing: path)

        // 4. POST /reload with the bad file: 400 and the errors.
        let post = try admin.post("/reload")
        #expect(post.status == 400, "\(post)")
        #expect(post.jsonObject?["ok"] as? Bool == false)
        #expect((post.jsonObject?["errors"] as? [String])?.contains { $0.contains(path) } == true, "\(post)")
        #expect(try admin.metric("meshgate_config_reloads_total", ["result": "failure"]) == 4)
        #expect(try client.get("/v").bodyText == "A")

        // 5. Moving the admin listener: refused with what to do (it is bound once, at start), not shown as applied.
        let moved = version("b").replacingOccurrences(
            of: "\"address\": \"127.0.0.1:\(adminPort)\"", with: "\"address\": \"127.0.0.1:1\"")
        try files.write(moved)
        try expectRejection(gateway, admin, count: 5, trigger: "file change", containing: "admin.address")
        #expect(try client.get("/v").bodyText == "A")
        #expect(try reloadErrors(admin).contains { $0.contains("until meshgate restarts") })

        // 6. A good file: the watcher applies it, and the errors are cleared.
        try files.write(version("b"))
        #expect(Poll.until(timeoutMs: 2000) { try client.get("/v").bodyText == "B" })
        #expect(try reloadErrors(admin).isEmpty)
        #expect(try admin.get("/config").jsonObject?["generation"] as? Int == 2)
        #expect(try admin.metric("meshgate_config_generation") == 2)

        // 7. SIGHUP and POST /reload with a good file each apply it (no byte comparison for explicit reloads).
        gateway.signal(SIGHUP)
        #expect(Poll.until(timeoutMs: 2000) { try admin.get("/config").jsonObject?["generation"] as? Int == 3 })
        let good = try admin.post("/reload")
        #expect(good.status == 200 && good.jsonObject?["ok"] as? Bool == true, "\(good)")
        #expect(try admin.get("/config").jsonObject?["generation"] as? Int == 4)
        #expect(try admin.metric("meshgate_config_reloads_total", ["result": "success"]) == 3)
        #expect(try admin.metric("meshgate_config_reloads_total", ["result": "failure"]) == 5)
        #expect(try client.get("/v").bodyText == "B")
        #expect(gateway.stop() == .exited(0))
    }

    /// Waits (bounded) until `count` rejections were logged, then checks the last one and the failure counter.
    private func expectRejection(
        _ gateway: GatewayProcess, _ admin: AdminClient, count: Int, trigger: String, containing text: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        // One log line per error; a rejected reload of these files has exactly one error.
        let logged = Poll.until(timeoutMs: 3000) { gateway.logLines(InvalidReloadTests.rejected).count >= count }
        #expect(
            logged, "no rejection #\(count) logged:\n\(gateway.stdout.suffix(3000))", sourceLocation: sourceLocation)
        guard let line = gateway.logLines(InvalidReloadTests.rejected).last else { return }
        #expect(line["level"] as? String == "error", sourceLocation: sourceLocation)
        #expect(line["trigger"] as? String == trigger, "\(line)", sourceLocation: sourceLocation)
        #expect((line["error"] as? String)?.contains(text) == true, "\(line)", sourceLocation: sourceLocation)
        #expect(
            try admin.metric("meshgate_config_reloads_total", ["result": "failure"]) == Double(count),
            sourceLocation: sourceLocation)
    }

    private func reloadErrors(_ admin: AdminClient) throws -> [String] {
        try admin.get("/config").jsonObject?["reload_errors"] as? [String] ?? ["<no reload_errors member>"]
    }
}
