import Glibc
import MeshTestSupport
import Testing

/// SPEC §2 command line and exit codes; SPEC §3 error reporting (line/column for syntax, JSON path otherwise).
@Suite struct CommandLineTests {
    /// Writes `text` as a config file in a fresh temp dir and returns its path.
    static func configFile(_ text: String) throws -> String {
        let path = try GatewayProcess.makeTempDirectory() + "/routes.json"
        try ChildProcess.writeFile(path, text)
        return path
    }

    @Test func checkReportsTheLineOfASyntaxError() throws {
        let path = try Self.configFile("{\n  \"version\": 1,\n  \"listeners\": [ ,\n}\n")
        let result = try GatewayProcess.command(["check", "--config", path])
        #expect(result.termination == .exited(1))
        #expect(result.stderr.contains("\(path):3:"), "stderr: \(result.stderr)")
    }

    @Test func checkNamesTheJSONPathOfAnUnknownUpstream() throws {
        let config = TestConfig.json(
            port: 1, routes: [TestConfig.route("/", to: "app"), TestConfig.route("/x", to: "missing")],
            upstreams: ["app": 2])
        let result = try GatewayProcess.command(["check", "--config", try Self.configFile(config)])
        #expect(result.termination == .exited(1))
        #expect(result.stderr.contains("listeners[0].routes[1].upstream"), "stderr: \(result.stderr)")
    }

    @Test func checkAcceptsAValidConfig() throws {
        let config = TestConfig.json(port: 1, routes: [TestConfig.route("/", to: "app")], upstreams: ["app": 2])
        let result = try GatewayProcess.command(["check", "--config", try Self.configFile(config)])
        #expect(result.termination == .exited(0), "stderr: \(result.stderr)")
    }

    @Test func versionPrintsTheName() throws {
        let result = try GatewayProcess.command(["version"])
        #expect(result.termination == .exited(0))
        #expect(result.stdout.hasPrefix("meshgate "), "stdout: \(result.stdout)")
    }

    @Test(arguments: [["--bogus"], ["run", "--frobnicate"], ["run", "--workers", "zero"], ["run", "--config"]])
    func usageErrorsExit2(arguments: [String]) throws {
        let result = try GatewayProcess.command(arguments)
        #expect(result.termination == .exited(2), "stderr: \(result.stderr)")
    }

    @Test func runWithAnInvalidConfigExits1() throws {
        let result = try GatewayProcess.command(["run", "--config", try Self.configFile("{ \"version\": 1, ")])
        #expect(result.termination == .exited(1))
    }

    @Test func listenerPortInUseExits3() throws {
        let (holder, port) = try TestSocket.listen()
        defer { close(holder) }
        let config = TestConfig.json(port: port, routes: [TestConfig.route("/", to: "app")], upstreams: ["app": 2])
        let result = try GatewayProcess.command(
            ["run", "--config", try Self.configFile(config), "--workers", "1"], timeoutMs: 10_000)
        #expect(result.termination == .exited(3), "stdout: \(result.stdout)\nstderr: \(result.stderr)")
    }

    @Test func sigtermStopsARunningGatewayWithExit0() throws {
        let rig = try Rig(.echo)
        #expect(try rig.get("/x").status == 200)
        #expect(rig.gateway.stdout.contains("\"msg\":\"started\""))
        rig.expectCleanStop()
    }
}
