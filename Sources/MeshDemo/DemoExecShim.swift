import CLinux
import Glibc
import MeshPosix

/// Ties each demo child's life to the demo's, so a demo killed with SIGKILL (or crashed) leaks no process.
///
/// Each child is spawned as `meshgate demo -- BINARY ARGS…` with `MESHGATE_DEMO_PARENT=<demo pid>` in its
/// environment. That short-lived `meshgate` sets `PR_SET_PDEATHSIG(SIGTERM)` and then execs `BINARY` in place
/// (same pid), so the backend or gateway itself gets SIGTERM when the demo dies and stops as it would on Ctrl-C.
///
/// Why a shim: the death signal must be set inside the child between fork and exec, and `posix_spawn` (STYLE
/// "Traps": no bare fork in a Swift process) offers no hook there. The setting survives `execve` (it is cleared
/// only for set-user-ID or file-capability binaries, which these are not). The kernel sends it when the *thread*
/// that spawned the child ends: the demo spawns from its main thread, which lives until the process exits.
enum DemoExecShim {
    /// Marks a shim process and carries the pid of the demo it belongs to.
    static let parentVariable = "MESHGATE_DEMO_PARENT"

    /// The argv and the environment that start `arguments` through the shim `meshgate` at `shim`.
    static func wrap(_ arguments: [String], shim: String) -> (argv: [String], environment: [String]) {
        let environment = Spawn.currentEnvironment().filter { !$0.hasPrefix(parentVariable + "=") }
        return ([shim, "demo", "--"] + arguments, environment + ["\(parentVariable)=\(getpid())"])
    }

    /// When this process is a shim: sets the death signal and execs the target, returning only on failure (with
    /// the exit code). nil when this is a user's `meshgate demo`.
    static func execIfRequested() -> Int32? {
        guard let value = getenv(parentVariable) else { return nil }
        let parent = pid_t(String(cString: value)) ?? -1
        let arguments = CommandLine.arguments
        guard let dash = arguments.firstIndex(of: "--"), dash + 1 < arguments.count else {
            Console.error("meshgate demo: \(parentVariable) is set but no command follows `--`\n")
            return 2
        }
        let target = Array(arguments[(dash + 1)...])
        if !setParentDeathSignal(SIGTERM) {
            // Still worth running: the demo stops it on every ordinary exit; only its SIGKILL would leak it.
            Console.error("meshgate demo: prctl(PR_SET_PDEATHSIG) failed: \(String(cString: strerror(errno)))\n")
        }
        // The demo may have died between spawning us and the prctl: then no signal will ever come.
        guard getppid() == parent else { return 1 }
        let environment = Spawn.currentEnvironment().filter { !$0.hasPrefix(parentVariable + "=") }
        var argv: [UnsafeMutablePointer<CChar>?] = target.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        execve(target[0], &argv, &envp)
        let reason = String(cString: strerror(errno))
        for pointer in argv + envp { free(pointer) }
        Console.error("meshgate demo: cannot run \(target[0]): \(reason)\n")
        return 127
    }

    /// `prctl(PR_SET_PDEATHSIG, signal)` (through CLinux: Swift imports no C variadic function).
    private static func setParentDeathSignal(_ signal: Int32) -> Bool {
        clinux_set_parent_death_signal(signal) == 0
    }
}
