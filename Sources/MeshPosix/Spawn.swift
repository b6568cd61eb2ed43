import CLinux
import Glibc

/// Starts a program with `posix_spawn` (STYLE "Traps": never a bare fork in a threaded Swift process), handing
/// it chosen descriptors as 3, 4, 5, ... (the `LISTEN_FDS` layout) and nothing else beyond 0, 1 and 2.
public enum Spawn {
    /// Runs `path` with `arguments` (argv[0] included) and `environment` ("NAME=value"), the descriptors
    /// `passing[i]` appearing as `3 + i` in the child, and 0, 1, 2 from `standardStreams` when given (else
    /// this process's). The child starts with no signal blocked and every signal at its default action.
    /// With `searchPath`, a `path` without a slash is looked up in `PATH` (as a shell would); with
    /// `newProcessGroup` the child leads a group of its own (a terminal's Ctrl-C then reaches only us). Returns
    /// its pid.
    public static func start(
        path: String, arguments: [String], environment: [String], passing: [Int32], standardStreams: [Int32] = [],
        searchPath: Bool = false, newProcessGroup: Bool = false
    ) throws(SystemError) -> pid_t {
        precondition(standardStreams.isEmpty || standardStreams.count == 3, "standardStreams is 0, 1 and 2")
        let sources = standardStreams + passing
        let targets = (standardStreams.isEmpty ? [] : [0, 1, 2]) + (0..<passing.count).map { Int32(3 + $0) }
        // Copies numbered above the target range first: a dup2 onto a target must never overwrite a source still
        // to be copied. The copies are close-on-exec, so only the dup2'd targets reach the new program.
        let first = Int32(3 + passing.count)
        var high: [Int32] = []
        defer { for fd in high { Posix.close(fd) } }
        for fd in sources { high.append(try Descriptors.duplicate(fd, minimum: first)) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (fd, target) in zip(high, targets) { posix_spawn_file_actions_adddup2(&actions, fd, target) }
        _ = clinux_spawn_closefrom(&actions, first)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var every = sigset_t()
        sigfillset(&every)
        sigdelset(&every, SIGKILL)
        sigdelset(&every, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &every)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if newProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var pid: pid_t = 0
        let rc =
            searchPath
            ? posix_spawnp(&pid, path, &actions, &attributes, argv, envp)
            : posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw SystemError(errno: rc, call: "posix_spawn \(path)") }
        return pid
    }

    /// The process environment now, as "NAME=value" strings.
    public static func currentEnvironment() -> [String] {
        var out: [String] = []
        var pointer = environ
        while let entry = pointer.pointee {
            out.append(String(cString: entry))
            pointer += 1
        }
        return out
    }

    /// Reaps child `pid` if it ends within `waitingMs` (polling every 5 ms); its exit code, else nil.
    public static func reap(_ pid: pid_t, waitingMs: Int) -> Int32? {
        let deadline = clinux_monotonic_ns() + Int64(waitingMs) * 1_000_000
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { return exitCode(status) }
            if result < 0 && Glibc.errno != EINTR { return nil }
            if clinux_monotonic_ns() >= deadline { return nil }
            usleep(5000)
        }
    }

    /// The exit code of a `waitpid` status, or 128 + the signal that ended it (the W* macros do not import).
    public static func exitCode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
