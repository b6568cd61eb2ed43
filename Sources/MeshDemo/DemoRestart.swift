import CLinux
import Glibc

/// What the demo says when a backend exits (the command that starts it again by hand), and what it does at stop
/// with a backend the user did start again that way.
enum DemoRestart {
    /// One line: the service, how it ended, its log, and the shell command that starts it again as the demo did.
    static func exitLine(_ backend: DemoSupervisor.Backend, directory: String) -> String {
        let child = backend.child
        return "meshgate demo: \(child.name) exited (\(child.endedHow ?? "?")), log \(child.logPath); "
            + "the gateway and the other services keep running; start it again with: "
            + command(child, directory: directory)
    }

    /// `cd DIR && BINARY ARGS… >> LOG 2>&1 &`: the demo's own argv, unchanged. The `cd` is there because the
    /// data directory and the log are relative to the demo's directory, and the user types this in another
    /// terminal; `&` gives the prompt back.
    static func command(_ child: ChildProcess, directory: String) -> String {
        "cd \(quote(directory)) && " + child.arguments.map(quote).joined(separator: " ")
            + " >> \(quote(child.logPath)) 2>&1 &"
    }

    /// `word` as one shell word: as is when it holds only characters no shell treats specially, else in single
    /// quotes (a quote inside becomes `'\''`).
    static func quote(_ word: String) -> String {
        if !word.isEmpty && word.utf8.allSatisfy(plainBytes.contains) { return word }
        return "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }

    private static let plainBytes = Set(
        ("abcdefghijklmnopqrstuvwxyz" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "0123456789" + "_-./:@%+,").utf8
    )

    /// Stops a process that listens on the exited backend's port and runs the backend's binary: the user started
    /// it with the printed command, and the demo promised that Ctrl-C stops everything. SIGTERM, then SIGKILL
    /// after `timeoutMs`. It is not our child: "gone" is no process, or a zombie for its own parent to reap.
    static func stopHandStarted(_ backend: DemoSupervisor.Backend, timeoutMs: Int) {
        let binary = canonical(backend.child.arguments[0])
        for holder in DemoPorts.holders(port: backend.address.port) where holder.executable.map(canonical) == binary {
            Demo.say("stopping \(backend.child.name) (pid \(holder.pid)), started again by hand on \(backend.address)")
            kill(holder.pid, SIGTERM)
            let deadline = clinux_monotonic_ns() + Int64(timeoutMs) * 1_000_000
            while !isGone(holder.pid) && clinux_monotonic_ns() < deadline { usleep(20_000) }
            if !isGone(holder.pid) { kill(holder.pid, SIGKILL) }
        }
    }

    /// The resolved path; a binary rebuilt while it ran shows in /proc/PID/exe as `PATH (deleted)`.
    static func canonical(_ path: String) -> String {
        let live = path.hasSuffix(" (deleted)") ? String(path.dropLast(10)) : path
        guard let resolved = realpath(live, nil) else { return live }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// No such process, or a zombie (state `Z` in /proc/PID/stat, after the parenthesised name).
    static func isGone(_ pid: pid_t) -> Bool {
        if kill(pid, 0) != 0 && errno == ESRCH { return true }
        guard let stat = DemoFiles.read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: 0x29) else { return true }
        return stat.dropFirst(close + 1).first { $0 != 0x20 } == 0x5A
    }
}
