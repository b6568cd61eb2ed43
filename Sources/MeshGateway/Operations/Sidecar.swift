import CLinux
import Glibc
import MeshConfig

/// Sidecar mode (SPEC §2, §7): the app starts only once the listeners are bound and every JWT provider has
/// keys, `/readyz` waits for the app's health URL, signals are forwarded, and the gateway exits with the
/// app's exit code.
final class Sidecar: @unchecked Sendable {
    let arguments: [String]
    let app: AppConfig?
    unowned let gateway: Gateway
    private(set) var pid: pid_t = 0
    private var exitStatus: Int32?

    init(arguments: [String], app: AppConfig?, gateway: Gateway) {
        self.arguments = arguments
        self.app = app
        self.gateway = gateway
    }

    /// Waits for JWT keys, starts the app, and (with a health URL) starts polling it for readiness.
    func start() -> Bool {
        let startupMs = app?.startupTimeoutMs ?? 30_000
        if !gateway.control.waitUntilReady(timeoutMs: startupMs) {
            EventLog.error("JWT providers have no keys; starting the app anyway", ["waited_ms": "\(startupMs)"])
        }
        guard let spawned = Sidecar.spawn(arguments) else {
            EventLog.error("cannot start the app", ["app": arguments[0], "error": String(cString: strerror(errno))])
            return false
        }
        pid = spawned
        EventLog.info("app started", ["app": arguments.joined(separator: " "), "pid": "\(pid)"])
        if let app {
            gateway.appHealthy.store(false, ordering: .relaxed)
            let gateway = self.gateway
            _ = WorkerThread(name: "meshgate-app") {
                Sidecar.pollHealth(app, gateway: gateway)
            }
        }
        return true
    }

    /// Polls the app's health URL until it answers 2xx (then `/readyz` may turn 200) or the startup timeout.
    static func pollHealth(_ app: AppConfig, gateway: Gateway) {
        let deadline = clinux_monotonic_ns() + Int64(app.startupTimeoutMs) * 1_000_000
        while clinux_monotonic_ns() < deadline && !gateway.draining.load(ordering: .relaxed) {
            if let status = HealthProbe.get(app.healthURL, timeoutMs: 1000), (200...299).contains(status) {
                gateway.appHealthy.store(true, ordering: .relaxed)
                EventLog.info("app is healthy", ["health_url": app.healthURL])
                return
            }
            gateway.sleepMs(100)
        }
        EventLog.error("app did not become healthy; /readyz stays 503", [
            "health_url": app.healthURL, "startup_timeout_ms": "\(app.startupTimeoutMs)",
        ])
    }

    func forward(_ signal: Int32) {
        if pid > 0 && exitStatus == nil { kill(pid, signal) }
    }

    /// After SIGCHLD: the app's exit code if it has exited.
    func reap() -> Int32? {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        guard pid > 0, waitpid(pid, &status, WNOHANG) == pid else { return nil }
        exitStatus = Sidecar.exitCode(status)
        return exitStatus
    }

    /// Waits for the app to exit after a forwarded signal; kills it past the timeout.
    func waitForExit(timeoutMs: Int) -> Int32 {
        let deadline = clinux_monotonic_ns() + Int64(timeoutMs) * 1_000_000
        while clinux_monotonic_ns() < deadline {
            if let code = reap() { return code }
            gateway.sleepMs(10)
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return Sidecar.exitCode(status)
    }

    static func exitCode(_ status: Int32) -> Int32 {
        // WIFEXITED / WEXITSTATUS / WTERMSIG by hand (macros do not import).
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// posix_spawnp with the parent's environment and an unblocked signal mask.
    static func spawn(_ arguments: [String]) -> pid_t? {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, arguments[0], nil, &attributes, &argv, environ)
        if rc != 0 {
            errno = rc
            return nil
        }
        return pid
    }
}
