import CLinux
import Glibc
import MeshConfig

extension Gateway {
    /// Blocks the signals the main thread serves in every thread (workers inherit the mask), so only
    /// `sigwait` sees them.
    static func blockSignals() {
        var set = Gateway.servedSignals()
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    static func servedSignals() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR2] { sigaddset(&set, s) }
        return set
    }

    /// Serves signals until the gateway has drained; returns the exit code (the app's in sidecar mode).
    func serveSignals() -> Int32 {
        var set = Gateway.servedSignals()
        while true {
            var signal: Int32 = 0
            guard sigwait(&set, &signal) == 0 else { continue }
            switch signal {
            case SIGHUP:
                reload(.signal)
            case SIGUSR2:
                // Sent by the upgrade thread once the new process is ready, or by an operator to start one.
                if case .handedOver = upgradePhase.withLock({ $0 }) { return drainAfterUpgrade() }
                startUpgrade()
            case SIGCHLD:
                guard let sidecar, let status = sidecar.reap() else { continue }
                EventLog.info("app exited; draining", ["exit_code": "\(status)"])
                drain()
                return status
            default:
                EventLog.info("draining", ["signal": signal == SIGTERM ? "SIGTERM" : "SIGINT"])
                sidecar?.forward(signal)
                drain()
                if let sidecar { return sidecar.waitForExit(timeoutMs: current.config.source.limits.drainTimeoutMs) }
                return 0
            }
        }
    }

    /// SPEC §7 drain: `/readyz` 503 at once; keep accepting for `drain_grace_ms`; then stop accepting, close
    /// idle keep-alive connections, let requests in flight finish up to `drain_timeout_ms`; stop the workers.
    func drain() {
        draining.store(true, ordering: .relaxed)
        systemd?.stopping()
        // A new process still starting would otherwise outlive this one and serve on its own.
        if case .starting(let pid) = upgradePhase.withLock({ $0 }) { kill(pid, SIGTERM) }
        let limits = current.config.source.limits
        sleepMs(limits.drainGraceMs)
        for worker in workers { worker.loop.execute { worker.beginDrain() } }
        waitForConnections()
    }

    /// Waits until every connection closed or `drain_timeout_ms` passed, then stops the workers.
    func waitForConnections() {
        let limits = current.config.source.limits
        let deadline = clinux_monotonic_ns() + Int64(limits.drainTimeoutMs) * 1_000_000
        while openConnections > 0 && clinux_monotonic_ns() < deadline { sleepMs(10) }
        let left = openConnections
        EventLog.info("drained", ["connections_cut": "\(left)"])
        for worker in workers { worker.loop.stop() }
        for thread in threads { thread.join() }
    }

    var openConnections: Int { workers.reduce(0) { $0 + $1.openConnections.load(ordering: .relaxed) } }

    func sleepMs(_ ms: Int) {
        guard ms > 0 else { return }
        var request = timespec(tv_sec: ms / 1000, tv_nsec: (ms % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
