import Glibc
import MeshTestSupport
import Testing

/// What the sidecar's app inherits from the gateway (SPEC §2 `-- APP`): an app must start like one started
/// by a shell — every standard signal at its default action, nothing blocked, and no descriptor but stdin,
/// stdout and stderr (a leaked listener would keep the gateway's ports open after it exits).
@Suite struct SidecarSpawnTests {
    /// The hex mask of `field` (`SigIgn`, `SigBlk`) in a `/proc/<pid>/status` text.
    static func mask(_ field: String, in status: String) -> UInt64? {
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            return UInt64(String(line.dropFirst(field.count + 1).filter { !$0.isWhitespace }), radix: 16)
        }
        return nil
    }

    /// The descriptors open in process `pid`, from `/proc/<pid>/fd`.
    static func descriptors(of pid: Int32) -> [String] {
        guard let dir = opendir("/proc/\(pid)/fd") else { return ["<unreadable>"] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { Int($0) ?? 0 < Int($1) ?? 0 }
    }

    // Regression: issue 10 — the app started with SIGPIPE ignored (inherited from the gateway).
    @Test func theAppStartsWithDefaultSignalsAndOnlyTheStandardDescriptors() throws {
        let directory = try GatewayProcess.makeTempDirectory()
        defer { GatewayProcess.removeDirectory(directory) }
        let port = try TestSocket.freePort()
        let adminPort = try TestSocket.freePort()
        let config = OpsConfig.document(
            admin: adminPort,
            listeners: [
                OpsConfig.listener("edge", port: port, routes: [OpsConfig.route("r", prefix: "/", to: "app")])
            ],
            upstreams: ["app": try TestSocket.freePort()], watch: false)
        try ChildProcess.writeFile(directory + "/routes.json", config)
        // The app is `sleep` itself: nothing between the gateway's spawn and what is inspected.
        let gateway = try GatewayProcess.start(
            configPath: directory + "/routes.json", directory: directory, port: port, adminPort: adminPort,
            app: ["sleep", "30"])
        defer { _ = gateway.stop(graceMs: 3000) }
        var pid: Int32 = 0
        let started = Poll.until(timeoutMs: 10_000) {
            pid = (gateway.logLines("app started").first?["pid"] as? String).flatMap { Int32($0) } ?? 0
            return pid > 0
        }
        #expect(started, "the app never started:\n\(gateway.stdout)")
        guard started else { return }
        let status = ChildProcess.readFile("/proc/\(pid)/status")
        // Signals 1-31; glibc's posix_spawn keeps its two internal real-time signals (32, 33) to itself.
        let standard: UInt64 = 0x7FFF_FFFF
        #expect(Self.mask("SigIgn", in: status).map { $0 & standard } == 0, "ignored signals:\n\(status)")
        #expect(Self.mask("SigBlk", in: status) == 0, "blocked signals:\n\(status)")
        #expect(Self.descriptors(of: pid) == ["0", "1", "2"], "the app inherited descriptors")
    }
}
