import Foundation
import Glibc
import MeshTestSupport
import Testing

/// `meshgate demo` run as a user runs it, for the Demo*Tests (this file holds the harness, the tests are beside
/// it): a private directory with the shipped routes.json moved to free ports (as BackendTests' DemoCommandTests
/// does), the demo started there, and what it printed and which processes it started.
///
/// The demo runs through `/bin/sh -c 'cd DIR && exec meshgate demo'` (same pid after the exec): it reads
/// ./routes.json and writes ./.meshgate-data, and MeshTestSupport's ChildProcess has no working-directory
/// option. Its children are found from its "started NAME on ADDRESS (pid N" lines. Whatever a failing test
/// leaves running is killed at deinit (only processes running this build's binaries).
final class DemoRun {
    /// The private working directory (removed at deinit).
    let directory: String
    /// Free ports by role: `auth`, `profile`, `relationships` (the backends), `edge`, `admin`.
    let ports: [String: UInt16]
    /// The build folder holding `meshgate` and the three services.
    let binaries: String
    private(set) var demo: ChildProcess?

    static let services = ["auth-service", "profile-service", "relationship-service"]

    /// Writes routes.json. `profileUpstream` sets members of the `profile` upstream (a short
    /// `circuit_breaker`, a faster `health_check`).
    init(profileUpstream: [String: Any] = [:]) throws {
        let meshgate = try GatewayProcess.binaryPath()
        binaries = String(meshgate[..<meshgate.lastIndex(of: "/")!])
        for service in Self.services where access("\(binaries)/\(service)", X_OK) != 0 {
            // The demo would build it with `swift build`, which a test must not start.
            throw TestSupportError("\(binaries)/\(service) is missing: run `swift build --build-tests` first")
        }
        directory = try GatewayProcess.makeTempDirectory()
        var ports: [String: UInt16] = [:]
        for name in ["auth", "profile", "relationships", "edge", "admin", "https"] { ports[name] = try TestSocket.freePort() }
        self.ports = ports
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("routes.json")
        var config = try String(contentsOf: shipped, encoding: .utf8)
            .replacingOccurrences(of: "\"$schema\": \"./routes.schema.json\",", with: "")
        let shippedPorts = [
            (9101, "auth"), (9102, "profile"), (9103, "relationships"), (8080, "edge"), (9901, "admin"),
        ]
        for (old, name) in shippedPorts {
            config = config.replacingOccurrences(of: "127.0.0.1:\(old)", with: "127.0.0.1:\(ports[name]!)")
        }
        if !profileUpstream.isEmpty {
            var root = try #require(try JSONSerialization.jsonObject(with: Data(config.utf8)) as? [String: Any])
            var upstreams = try #require(root["upstreams"] as? [String: Any])
            var profile = try #require(upstreams["profile"] as? [String: Any])
            profile.merge(profileUpstream) { $1 }
            upstreams["profile"] = profile
            root["upstreams"] = upstreams
            let data = try JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys])
            config = String(decoding: data, as: UTF8.self)
        }
        try ChildProcess.writeFile(directory + "/routes.json", config)
        // The edge's REST→gRPC route reads the descriptor set by its path relative to the demo's directory.
        let protos = shipped.deletingLastPathComponent().appendingPathComponent("backends/protos/profile.pb")
        try FileManager.default.createDirectory(atPath: directory + "/backends/protos", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: protos.path, toPath: directory + "/backends/protos/profile.pb")
    }

    deinit {
        if let demo, !demo.poll() { demo.terminate(signal: SIGKILL) }
        // Children of a failed test, and a service started by hand; the demo's own death signal covers most.
        let started = childPids().values
        let handStarted = ports.values.flatMap { DemoRun.listenerPids(port: $0) }
        for pid in Set(started).union(handStarted) where runsThisBuild(pid) { kill(pid, SIGKILL) }
        GatewayProcess.removeDirectory(directory)
    }

    /// Starts the demo (stdout and stderr into DIR/demo.stdout, DIR/demo.stderr).
    @discardableResult
    func start() throws -> ChildProcess {
        let script = "cd '\(directory)' && exec '\(binaries)/meshgate' demo --https-port \(ports["https"]!)"
        let child = try ChildProcess(path: "/bin/sh", arguments: ["-c", script], outputPrefix: directory + "/demo")
        demo = child
        return child
    }

    /// Bounded wait (30 s) for the walkthrough, printed once every process is ready.
    func waitRunning() throws {
        let running = Poll.until(timeoutMs: 30_000) {
            stdout.contains("meshgate demo is running") || demo?.poll() == true
        }
        guard running, stdout.contains("meshgate demo is running") else {
            throw TestSupportError("demo did not start:\n\(stdout)\n\(stderr)")
        }
    }

    var stdout: String { demo?.stdout ?? "" }
    var stderr: String { demo?.stderr ?? "" }

    /// The processes the demo started, by name (`profile-service`, `meshgate`), from its "started" lines.
    func childPids() -> [String: pid_t] {
        var pids: [String: pid_t] = [:]
        for line in stdout.split(separator: "\n") where line.hasPrefix("started ") {
            let name = line.dropFirst(8).prefix { $0 != " " }
            guard let range = line.range(of: "(pid ") else { continue }
            pids[String(name)] = pid_t(line[range.upperBound...].prefix { $0.isNumber })
        }
        return pids
    }

    /// Whether `pid` runs one of this build's binaries (so a reused pid is never killed).
    func runsThisBuild(_ pid: pid_t) -> Bool {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) ?? ""
        return exe.hasPrefix(binaries + "/")
    }

    // MARK: - Processes and ports

    /// No such process, or a zombie (its new parent has not reaped it yet).
    static func isGone(_ pid: pid_t) -> Bool {
        if kill(pid, 0) != 0 && errno == ESRCH { return true }
        let stat = ChildProcess.readFile("/proc/\(pid)/stat")
        guard let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    /// Whether nothing accepts connections on 127.0.0.1:`port`.
    static func isFree(_ port: UInt16) -> Bool {
        guard let fd = try? TestSocket.connect(port: port, timeoutMs: 1000) else { return true }
        close(fd)
        return false
    }

    /// The pids holding a listening socket on `port` (inode from /proc/net/tcp, found among /proc/PID/fd).
    static func listenerPids(port: UInt16) -> [pid_t] {
        let suffix = String(format: ":%04X", port)
        var inodes: Set<String> = []
        for line in ChildProcess.readFile("/proc/net/tcp").split(separator: "\n").dropFirst() {
            let columns = line.split(separator: " ")
            guard columns.count > 9, columns[1].hasSuffix(suffix), columns[3] == "0A" else { continue }
            inodes.insert("socket:[\(columns[9])]")
        }
        guard !inodes.isEmpty else { return [] }
        let files = FileManager.default
        return ((try? files.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid_t($0) }.filter { pid in
            let fds = (try? files.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
            return fds.contains { fd in
                inodes.contains((try? files.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")) ?? "")
            }
        }
    }

    // MARK: - Requests through the gateway

    /// One request to the edge listener on a fresh connection.
    func request(_ method: String, _ path: String, body: String? = nil, token: String? = nil) throws -> HTTPResponse {
        var head = "\(method) \(path) HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n"
        if let token { head += "authorization: Bearer \(token)\r\n" }
        if let body { head += "content-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n" }
        let client = try RawClient(port: ports["edge"]!)
        return try client.request(head + "\r\n" + (body ?? ""), method: method)
    }

    /// Registers `user` (its password derived from the name) and logs in; the access token.
    func registerAndLogIn(_ user: String) throws -> String {
        let credentials = #"{"username":"\#(user)","password":"\#(user)-password-1"}"#
        let registered = try request("POST", "/auth/register", body: credentials)
        guard registered.status == 201 else { throw TestSupportError("register \(user): \(registered)") }
        let login = try request("POST", "/auth/login", body: credentials)
        guard login.status == 200, let token = login.jsonString("access_token") else {
            throw TestSupportError("login \(user): \(login)")
        }
        return token
    }
}
