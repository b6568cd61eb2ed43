import Glibc
import MeshPosix
import MeshTestSupport

/// A `meshgate` process started the way systemd or a binary upgrade starts it, which `GatewayProcess` cannot:
/// extra environment, descriptors passed as 3, 4, ... (socket activation), `LISTEN_PID` set to the child's own
/// pid (through `sh -c 'LISTEN_PID=$$ exec ...'`, as systemd sets it after fork), and a binary path of the
/// test's choosing (a symlink a test can re-point). stdout and stderr go to files in `directory`, shared with
/// any process it starts (a binary upgrade's new process logs to the same file).
final class SpawnedGateway {
    let pid: pid_t
    let directory: String
    var stdoutPath: String { directory + "/meshgate.stdout" }
    private(set) var exitCode: Int32?

    init(
        binary: String, arguments: [String], directory: String, environment: [String: String] = [:],
        passing: [Int32] = [], setListenPID: Bool = false
    ) throws {
        self.directory = directory
        let out = open(directory + "/meshgate.stdout", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        let err = open(directory + "/meshgate.stderr", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { for fd in [out, err, null] where fd >= 0 { close(fd) } }
        guard out >= 0, err >= 0, null >= 0 else { throw TestSupportError.system("open output files") }
        let argv =
            setListenPID
            ? ["/bin/sh", "-c", "LISTEN_PID=$$ exec \"$0\" \"$@\"", binary] + arguments : [binary] + arguments
        let extra = environment.map { "\($0.key)=\($0.value)" }
        let inherited = Spawn.currentEnvironment().filter { entry in
            environment[String(entry.prefix { $0 != "=" })] == nil
        }
        pid = try Spawn.start(
            path: argv[0], arguments: argv, environment: inherited + extra, passing: passing,
            standardStreams: [null, out, err])
    }

    deinit {
        if exitCode == nil {
            kill(pid, SIGKILL)
            _ = wait(timeoutMs: 5000)
        }
    }

    /// Everything written to the shared stdout so far.
    var stdout: String { ChildProcess.readFile(stdoutPath) }

    /// The JSON log lines with `msg` equal to `message` so far (from this process and its successors).
    func logLines(_ message: String) -> [[String: Any]] { JSONLog.lines(stdout, message: message) }

    /// Reaps the child if it ended; its exit code (128 + signal when killed).
    func poll() -> Int32? {
        if let exitCode { return exitCode }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { exitCode = Spawn.exitCode(status) }
        return exitCode
    }

    /// Waits up to `timeoutMs` for the child to end; its exit code, or nil if it still runs.
    func wait(timeoutMs: Int) -> Int32? {
        Poll.until(timeoutMs: timeoutMs, intervalMs: 5) { poll() != nil }
        return poll()
    }

    /// Waits (bounded) until 127.0.0.1:`port` accepts a connection.
    func waitUntilListening(_ port: UInt16, timeoutMs: Int = 15_000) throws {
        let up = Poll.until(timeoutMs: timeoutMs, intervalMs: 5) {
            guard poll() == nil else { return true }
            let fd = try TestSocket.connect(port: port, timeoutMs: 1000)
            close(fd)
            return true
        }
        guard up, poll() == nil else {
            throw TestSupportError("meshgate not listening on \(port): \(String(describing: exitCode))\n\(stdout)")
        }
    }

    /// Waits (bounded) for the `started` log line: from then on signals are served (before it, SIGUSR2's
    /// default action would end the process). A socket passed in accepts connections before that.
    func waitUntilStarted(timeoutMs: Int = 15_000) throws {
        guard Poll.until(timeoutMs: timeoutMs, intervalMs: 5, { poll() != nil || !logLines("started").isEmpty }),
            poll() == nil
        else {
            throw TestSupportError("meshgate did not start: \(String(describing: exitCode))\n\(stdout)")
        }
    }

    /// Whether any process (this child or a later one it started) with `pid` still runs; a zombie has ended.
    static func isAlive(_ pid: pid_t) -> Bool {
        let stat = ChildProcess.readFile("/proc/\(pid)/stat")
        guard let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)...].prefix(1)
        return !stat.isEmpty && state != "Z" && state != "X"
    }

    /// The config path and arguments every test here uses.
    static func arguments(config: String, workers: Int = 2) -> [String] {
        ["run", "--config", config, "--workers", "\(workers)"]
    }
}
