import Glibc
import MeshTestSupport
import Testing

/// `deploy/systemd/` (SPEC §12): the unit's contract with meshgate (notify type, SIGHUP reload, watchdog, a
/// numeric unprivileged user, hardening), and `systemd-analyze verify` / `security --offline` on a copy whose
/// ExecStart names the built binary (skipped, and said so, where systemd is not installed).
@Suite struct SystemdUnitTests {
    static let directory: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path + "/deploy/systemd"
    }()
    static let analyze = "/usr/bin/systemd-analyze"

    /// `Key=value` lines of a unit file (comments and sections dropped); repeated keys keep every value.
    static func settings(_ text: String) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && line.contains("=") {
            let key = String(line.prefix { $0 != "=" })
            result[key, default: []].append(String(line.dropFirst(key.count + 1)))
        }
        return result
    }

    @Test func serviceUnitStatesMeshgatesContract() throws {
        let unit = SystemdUnitTests.settings(ChildProcess.readFile(SystemdUnitTests.directory + "/meshgate.service"))
        #expect(["notify", "notify-reload"].contains(unit["Type"]?.first ?? ""), "\(unit)")
        #expect(unit["ExecStart"]?.first?.contains("meshgate run --config ") == true)
        #expect(unit["ExecReload"]?.first == "/bin/kill -HUP $MAINPID")
        #expect(unit["NotifyAccess"]?.first == "main", "the old process sends MAINPID= for the new one")
        #expect(unit["WatchdogSec"] != nil)
        let user = unit["User"]?.first.flatMap { Int($0) }
        #expect(user.map { $0 > 0 } == true, "User= must be a numeric non-root id: \(String(describing: unit["User"]))")
        for key in ["NoNewPrivileges", "ProtectSystem", "PrivateTmp", "RestrictAddressFamilies", "SystemCallFilter"] {
            #expect(unit[key] != nil, "\(key) missing")
        }
        let socket = SystemdUnitTests.settings(ChildProcess.readFile(SystemdUnitTests.directory + "/meshgate.socket"))
        #expect(socket["ListenStream"]?.isEmpty == false)
    }

    @Test func systemdAcceptsTheUnits() throws {
        guard access(SystemdUnitTests.analyze, X_OK) == 0 else {
            print("systemd-analyze not installed: unit verification skipped")
            return
        }
        let scratch = try GatewayProcess.makeTempDirectory()
        defer { GatewayProcess.removeDirectory(scratch) }
        let binary = try GatewayProcess.binaryPath()
        let service = ChildProcess.readFile(SystemdUnitTests.directory + "/meshgate.service")
            .replacingOccurrences(of: "/usr/local/bin/meshgate", with: binary)
        try ChildProcess.writeFile(scratch + "/meshgate.service", service)
        try ChildProcess.writeFile(
            scratch + "/meshgate.socket", ChildProcess.readFile(SystemdUnitTests.directory + "/meshgate.socket"))
        let verify = try Tool.run(
            SystemdUnitTests.analyze,
            ["verify", "--man=no", scratch + "/meshgate.service", scratch + "/meshgate.socket"])
        // verify exits 0 on unknown keys and bad values: any line it prints is a finding.
        #expect(verify.exitCode == 0 && verify.stderr.isEmpty && verify.stdout.isEmpty, "\(verify.stderr)\(verify.stdout)")
        let security = try Tool.run(SystemdUnitTests.analyze, ["security", "--offline=yes", scratch + "/meshgate.service"])
        let exposure = security.stdout.split(separator: "\n").last { $0.contains("Overall exposure level") }
        let level = exposure?.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }
        #expect(level.map { $0 <= 2.0 } == true, "exposure: \(String(describing: exposure))")
    }
}
