import CLinux
import Glibc
import MeshConfig
import MeshControl
import MeshPosix
import MeshSync

/// Sidecar mode (SPEC §2, §7): the app starts only once the listeners are bound and every JWT provider has
/// keys, signals are forwarded, and the gateway exits with the app's exit code.
///
/// The wait for keys runs on its own thread, so the main thread keeps serving signals meanwhile: a SIGTERM
/// before the app started stops the gateway at once and the app is never started.
final class Sidecar: @unchecked Sendable {
    let arguments: [String]
    let startupTimeoutMs: Int
    unowned let gateway: Gateway
    private struct Child {
        var pid: pid_t = 0
        var exitStatus: Int32?
        /// The app could not be started: the exit code to leave with.
        var failure: Int32?
    }
    private let child = Locked(Child())

    init(arguments: [String], startupTimeoutMs: Int, gateway: Gateway) {
        self.arguments = arguments
        self.startupTimeoutMs = startupTimeoutMs
        self.gateway = gateway
    }

    /// Waits for JWT keys (bounded by the startup timeout) and starts the app, on a thread of its own.
    func start() {
        WorkerThread(name: "meshgate-app") { [self] in
            let deadline = clinux_monotonic_ns() + Int64(startupTimeoutMs) * 1_000_000
            while !gateway.control.isReady && !gateway.isDraining && clinux_monotonic_ns() < deadline {
                gateway.sleepMs(10)
            }
            if gateway.isDraining { return }
            if !gateway.control.isReady {
                EventLog.error(
                    "JWT providers have no keys; starting the app anyway", ["waited_ms": "\(startupTimeoutMs)"])
            }
            launch()
        }.detach()
    }

    private func launch() {
        let started: pid_t? = child.withLock { child in
            // Checked under the lock that `forward`/`waitForExit` take, so a drain never misses the child.
            guard !gateway.isDraining, let pid = Sidecar.spawn(arguments) else { return nil }
            child.pid = pid
            return pid
        }
        guard let pid = started else {
            if gateway.isDraining { return }
            EventLog.error(
                "cannot start the app; stopping",
                [
                    "app": arguments[0], "error": String(cString: strerror(errno)),
                ])
            child.withLock { $0.failure = 127 }
            kill(getpid(), SIGTERM)
            return
        }
        EventLog.info("app started", ["app": arguments.joined(separator: " "), "pid": "\(pid)"])
    }

    func forward(_ signal: Int32) {
        child.withLock { child in
            if child.pid > 0 && child.exitStatus == nil { kill(child.pid, signal) }
        }
    }

    /// After SIGCHLD: the app's exit code if it has exited.
    func reap() -> Int32? {
        child.withLock { child in
            if let status = child.exitStatus { return status }
            var status: Int32 = 0
            guard child.pid > 0, waitpid(child.pid, &status, WNOHANG) == child.pid else { return nil }
            child.exitStatus = Sidecar.exitCode(status)
            return child.exitStatus
        }
    }

    /// Waits for the app to exit after a forwarded signal; kills it past the timeout. 0 when it never ran.
    func waitForExit(timeoutMs: Int) -> Int32 {
        let (pid, failure) = child.withLock { ($0.pid, $0.failure) }
        if let failure { return failure }
        guard pid > 0 else { return 0 }
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
        // WIFEXITED / WEXITSTATUS / WTERMSIG by hand (the macros do not import).
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// posix_spawnp with the parent's environment, started as a shell would start it: no signal blocked, every
    /// signal at its default action (the gateway ignores SIGPIPE, and POSIX keeps ignored signals ignored
    /// across exec: an app would never die of a broken pipe and most runtimes never reset it), and no
    /// descriptor but 0, 1 and 2 (every gateway descriptor is close-on-exec; closing from 3 also covers one a
    /// library opened without it, which would keep a port or file open for the app's life).
    static func spawn(_ arguments: [String]) -> pid_t? {
        // systemd's notify socket and watchdog are the gateway's (the service's main process): an app that
        // speaks sd_notify would otherwise report READY=1 or STOPPING=1 for the whole service.
        let gatewayOnly: Set<Substring> = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"]
        let environment = Spawn.currentEnvironment().filter { !gatewayOnly.contains($0.prefix { $0 != "=" }) }
        return try? Spawn.start(
            path: arguments[0], arguments: arguments, environment: environment, passing: [], searchPath: true)
    }
}

/// `app.health_url` gates `/readyz` (SPEC §7) whether or not meshgate started the app itself: in Kubernetes
/// the app is often a container of its own.
enum AppHealth {
    static func start(_ app: AppConfig, gateway: Gateway) {
        gateway.appHealthy.store(false, ordering: .relaxed)
        WorkerThread(name: "meshgate-health") { poll(app, gateway: gateway) }.detach()
    }

    /// Polls the app's health URL until it answers 2xx (then `/readyz` may turn 200) or the startup timeout.
    static func poll(_ app: AppConfig, gateway: Gateway) {
        let deadline = clinux_monotonic_ns() + Int64(app.startupTimeoutMs) * 1_000_000
        while clinux_monotonic_ns() < deadline && !gateway.isDraining {
            if let status = HealthProbe.get(app.healthURL, timeoutMs: 1000), (200...299).contains(status) {
                gateway.appHealthy.store(true, ordering: .relaxed)
                EventLog.info("app is healthy", ["health_url": URLRedaction.redact(app.healthURL)])
                return
            }
            gateway.sleepMs(100)
        }
        if gateway.isDraining { return }
        EventLog.error(
            "app did not become healthy; /readyz stays 503",
            [
                "health_url": URLRedaction.redact(app.healthURL), "startup_timeout_ms": "\(app.startupTimeoutMs)",
            ])
    }
}
