import CLinux
import Glibc

/// A child process started with `posix_spawn` (STYLE "Traps": never a bare fork in a Swift process), its
/// stdout and stderr appended to a log file.
///
/// The child gets a clean signal state (empty mask, default SIGTERM/SIGINT/SIGPIPE dispositions: the demo
/// blocks those signals in itself) and its own process group, so a terminal's Ctrl-C reaches only the demo,
/// which then stops the children in order. Every descriptor the demo owns is close-on-exec.
final class ChildProcess {
    /// Short name for messages (`auth-service`).
    let name: String
    /// Where its output goes.
    let logPath: String
    /// Its process id.
    let pid: pid_t
    /// The exit status once reaped: exit code, or 128 + signal.
    private(set) var exitStatus: Int32?

    private init(name: String, logPath: String, pid: pid_t) {
        self.name = name
        self.logPath = logPath
        self.pid = pid
    }

    /// Spawns `arguments[0]` with `arguments`; the environment is the demo's own.
    static func spawn(name: String, arguments: [String], logPath: String) throws(SystemErrorText) -> ChildProcess {
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
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        let flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP
        posix_spawnattr_setflags(&attributes, Int16(flags))
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var environment = ChildProcess.environment().map { strdup($0) } + [nil]
        defer { for pointer in environment { free(pointer) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, arguments[0], &actions, &attributes, &argv, &environment)
        guard rc == 0 else {
            throw SystemErrorText("cannot start \(name) (\(arguments[0])): \(String(cString: strerror(rc)))")
        }
        return ChildProcess(name: name, logPath: logPath, pid: pid)
    }

    /// The demo's environment as `NAME=value` strings (read from /proc: Glibc's `environ` is a mutable global
    /// that Swift 6 will not touch).
    static func environment() -> [String] {
        guard let bytes = DemoFiles.read("/proc/self/environ") else { return [] }
        return bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Open descriptors above stderr without FD_CLOEXEC (our own all have it; these came from our parent).
    static func inheritableDescriptors() -> [Int32] {
        guard let directory = opendir("/proc/self/fd") else { return [] }
        var numbers: [Int32] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if let fd = Int32(name), fd > 2 { numbers.append(fd) }
        }
        closedir(directory)
        // The listing's own descriptor is closed now: F_GETFD fails for it and it is skipped.
        return numbers.filter { fd in
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
        return true
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
