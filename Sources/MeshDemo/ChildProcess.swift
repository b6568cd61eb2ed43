import CLinux
import Glibc

/// A child process started with `posix_spawn` (STYLE "Traps": never a bare fork in a Swift process), its
/// stdout and stderr appended to a log file.
///
/// The child gets a clean signal state (empty mask, default SIGTERM/SIGINT/SIGHUP/SIGPIPE dispositions: the
/// demo blocks those signals in itself) and its own process group, so a terminal's Ctrl-C or hang-up reaches
/// only the demo, which then stops the children in order. It starts through `DemoExecShim`, so it gets SIGTERM
/// if the demo dies without stopping it. Every descriptor the demo owns is close-on-exec.
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
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // The log is opened in the child only (no descriptor to leak or to close in the demo).
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // Descriptors the demo itself inherited without close-on-exec (from a shell, a CI runner) stop here too.
        for fd in ChildProcess.inheritableDescriptors() { posix_spawn_file_actions_addclose(&actions, fd) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        let flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP
        posix_spawnattr_setflags(&attributes, Int16(flags))
        let wrapped = DemoExecShim.wrap(arguments, shim: shim)
        var argv: [UnsafeMutablePointer<CChar>?] = wrapped.argv.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var environment = wrapped.environment.map { strdup($0) } + [nil]
        defer { for pointer in environment { free(pointer) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, shim, &actions, &attributes, &argv, &environment)
        guard rc == 0 else {
            throw SystemErrorText("cannot start \(name) (\(arguments[0])): \(String(cString: strerror(rc)))")
        }
        return ChildProcess(name: name, arguments: arguments, logPath: logPath, pid: pid)
    }

    /// The demo's environment as `NAME=value` strings (read from /proc: Glibc's `environ` is a mutable global
    /// that Swift 6 will not touch).
    static func environment() -> [String] {
        guard let bytes = DemoFiles.read("/proc/self/environ") else { return [] }
        return bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Open descriptors above stderr without FD_CLOEXEC (our own all have it; these came from our parent).
    static func inheritableDescriptors() -> [Int32] {
        // The listing's own descriptor is closed once `list` returns: F_GETFD fails for it and it is skipped.
        DemoFiles.list("/proc/self/fd").compactMap { Int32($0) }.filter { fd in
            guard fd > 2 else { return false }
            let flags = fcntl(fd, F_GETFD)
            return flags >= 0 && flags & FD_CLOEXEC == 0
        }
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
