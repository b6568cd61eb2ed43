import CLinux
import Glibc
import MeshPosix

/// A child process started with `posix_spawn` (STYLE "Traps": never a bare fork in a Swift process), its
/// stdout and stderr appended to a log file.
///
/// The child gets a clean signal state (empty mask, every signal at its default: the demo blocks SIGTERM,
/// SIGINT, SIGHUP and SIGCHLD in itself), only descriptors 0, 1 and 2 (`Spawn`), and its own process group, so
/// a terminal's Ctrl-C or hang-up reaches only the demo, which then stops the children in order. It starts
/// through `DemoExecShim`, so it gets SIGTERM if the demo dies without stopping it.
final class ChildProcess {
    /// Short name for messages (`auth-service`).
    let name: String
    /// The command it runs (`arguments[0]` is the binary), as given to `spawn`; the shim is not part of it.
    let arguments: [String]
    /// Where its output goes.
    let logPath: String
    /// Its process id.
    let pid: pid_t
    /// The exit status once reaped: exit code, or 128 + signal.
    private(set) var exitStatus: Int32?
    /// How it ended once reaped, for messages: "exit code 1", "killed by SIGKILL".
    private(set) var endedHow: String?

    private init(name: String, arguments: [String], logPath: String, pid: pid_t) {
        self.name = name
        self.arguments = arguments
        self.logPath = logPath
        self.pid = pid
    }

    /// Spawns `arguments[0]` with `arguments` through the exec shim `shim` (the `meshgate` binary); the
    /// environment is the demo's own.
    static func spawn(
        name: String,
        arguments: [String],
        logPath: String,
        shim: String
    ) throws(SystemErrorText) -> ChildProcess {
        // stdin from /dev/null, stdout and stderr appended to the log; both opened close-on-exec and closed here
        // once the child has its copies.
        let log = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer {
            if log >= 0 { close(log) }
            if null >= 0 { close(null) }
        }
        guard log >= 0, null >= 0 else {
            throw SystemErrorText("cannot start \(name): cannot open \(logPath): \(String(cString: strerror(errno)))")
        }
        let wrapped = DemoExecShim.wrap(arguments, shim: shim)
        let pid: pid_t
        do {
            pid = try Spawn.start(
                path: shim, arguments: wrapped.argv, environment: wrapped.environment, passing: [],
                standardStreams: [null, log, log], newProcessGroup: true)
        } catch {
            throw SystemErrorText("cannot start \(name) (\(arguments[0])): \(error.description)")
        }
        return ChildProcess(name: name, arguments: arguments, logPath: logPath, pid: pid)
    }

    /// Reaps the child if it has exited; true when it is gone.
    @discardableResult
    func reap() -> Bool {
        if exitStatus != nil { return true }
        var status: Int32 = 0
        let rc = waitpid(pid, &status, WNOHANG)
        guard rc == pid else { return rc < 0 }
        // WIFEXITED / WEXITSTATUS / WTERMSIG spelled out: the C macros do not import.
        let signal = status & 0x7F
        exitStatus = signal == 0 ? (status >> 8) & 0xFF : 128 + signal
        endedHow = signal == 0 ? "exit code \((status >> 8) & 0xFF)" : "killed by \(ChildProcess.signalName(signal))"
        return true
    }

    /// The C name (`SIGKILL`) of the signals a user meets, else "signal N".
    static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [
            SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
            SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV",
            SIGPIPE: "SIGPIPE", SIGTERM: "SIGTERM",
        ]
        return names[signal] ?? "signal \(signal)"
    }

    /// Sends `signal` unless the child is already reaped.
    func send(_ signal: Int32) {
        if exitStatus == nil { kill(pid, signal) }
    }

    /// The last `lines` lines of the child's log, for error messages.
    func logTail(_ lines: Int = 5) -> String {
        guard let bytes = DemoFiles.read(logPath) else { return "" }
        let all = bytes.split(separator: 0x0A)
        return all.suffix(lines).map { "    " + String(decoding: $0, as: UTF8.self) }.joined(separator: "\n")
    }
}

/// A failure message for the demo's user (the demo prints it and exits 1).
struct SystemErrorText: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
