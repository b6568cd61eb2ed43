import Glibc

/// How a child process ended.
public enum Termination: Sendable, Equatable, CustomStringConvertible {
    /// exit(code).
    case exited(Int32)
    /// Killed by a signal.
    case signaled(Int32)

    /// Decodes a `waitpid` status (the W* macros do not import into Swift).
    init(waitStatus status: Int32) {
        self = (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
    }

    /// Readable form for failure messages.
    public var description: String {
        switch self {
        case .exited(let code): "exit \(code)"
        case .signaled(let signal): "signal \(signal)"
        }
    }
}

/// A spawned process with stdout and stderr redirected into files (so the child never blocks on a full pipe).
/// The owner must reap it with `wait`/`terminate`.
public final class ChildProcess {
    /// Process id (for /proc/PID/status).
    public let pid: pid_t
    /// File that receives the child's stdout.
    public let stdoutPath: String
    /// File that receives the child's stderr.
    public let stderrPath: String
    /// Set once reaped.
    public private(set) var termination: Termination?
    /// The read end of the stdout pipe when spawned with `stdoutToUnreadPipe` (held open, never read).
    private let unreadPipeFD: Int32?

    /// Spawns `path` with `arguments` (argv[1...]) and the current environment plus `environment` (which wins
    /// over inherited variables), in a fresh signal state. With `stdoutToUnreadPipe` the child's stdout is a pipe
    /// that nobody reads (it fills up and then blocks or fails writes): `stdout` is then always empty.
    public init(
        path: String, arguments: [String], outputPrefix: String, environment: [String: String] = [:],
        stdoutToUnreadPipe: Bool = false, stdinPath: String = "/dev/null"
    ) throws {
        stdoutPath = outputPrefix + ".stdout"
        stderrPath = outputPrefix + ".stderr"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let flags = O_WRONLY | O_CREAT | O_TRUNC
        var pipeEnds: [Int32] = [-1, -1]
        if stdoutToUnreadPipe {
            // FD_CLOEXEC on both ends: only the dup2'd copy (fd 1) survives into the child.
            guard pipe(&pipeEnds) == 0 else { throw TestSupportError.system("pipe") }
            for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
            posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
            unreadPipeFD = pipeEnds[0]
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, flags, 0o644)
            unreadPipeFD = nil
        }
        defer { if pipeEnds[1] >= 0 { close(pipeEnds[1]) } }
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, flags, 0o644)
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let envp: [UnsafeMutablePointer<CChar>?] = ChildProcess.environment(adding: environment).map { strdup($0) }
            + [nil]
        defer { for pointer in envp { free(pointer) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, path, &actions, &attributes, argv, envp)
        guard result == 0 else {
            if let unreadPipeFD { close(unreadPipeFD) }
            throw TestSupportError("posix_spawn \(path): \(String(cString: strerror(result)))")
        }
        pid = child
    }

    deinit { if let unreadPipeFD { close(unreadPipeFD) } }

    /// The current environment as `NAME=value` strings, with `extra` replacing or adding variables.
    static func environment(adding extra: [String: String]) -> [String] {
        var out: [String] = []
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            let name = String(text.prefix { $0 != "=" })
            if extra[name] == nil { out.append(text) }
            pointer += 1
        }
        return out + extra.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }

    /// Reaps the child if it has ended; returns whether it has.
    public func poll() -> Bool {
        if termination != nil { return true }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
            termination = Termination(waitStatus: status)
            return true
        }
        return false
    }

    /// Waits up to `timeoutMs` for the child to end; nil if it is still running.
    @discardableResult
    public func wait(timeoutMs: Int) -> Termination? {
        let deadline = TestSocket.nowMs() + timeoutMs
        while !poll() {
            if TestSocket.nowMs() > deadline { return nil }
            usleep(2000)
        }
        return termination
    }

    /// Sends `signal`, waits up to `graceMs`, then SIGKILLs; always returns how it ended.
    @discardableResult
    public func terminate(signal: Int32 = SIGTERM, graceMs: Int = 5000) -> Termination {
        if let termination { return termination }
        kill(pid, signal)
        if let ended = wait(timeoutMs: graceMs) { return ended }
        kill(pid, SIGKILL)
        return wait(timeoutMs: 10_000) ?? .signaled(SIGKILL)
    }

    /// Everything the child wrote to stdout so far.
    public var stdout: String { ChildProcess.readFile(stdoutPath) }
    /// Everything the child wrote to stderr so far.
    public var stderr: String { ChildProcess.readFile(stderrPath) }

    /// Reads a whole (small) text file; empty if missing.
    public static func readFile(_ path: String) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            out += chunk[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Writes `text` to `path` (creating or truncating it).
    public static func writeFile(_ path: String, _ text: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TestSupportError.system("open \(path)") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw TestSupportError.system("write \(path)") }
    }
}
