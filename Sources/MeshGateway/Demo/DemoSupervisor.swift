import CLinux
import Glibc

/// Watches the demo's children: readiness waits, the signal loop, and the ordered stop.
///
/// Runs on the main thread only; SIGTERM, SIGINT and SIGCHLD are blocked and taken with `sigtimedwait`, so no
/// signal handler ever runs.
struct DemoSupervisor {
    /// In start order; stopped in reverse (the gateway first, so no request reaches a stopping backend).
    var children: [ChildProcess] = []

    /// Polls until `GET path` answers 200 (or, with no path, until the port accepts a connection). Fails with
    /// the child's name and log when it exits first or the bound passes.
    func waitReady(
        _ child: ChildProcess,
        host: String,
        port: UInt16,
        path: String?,
        timeoutMs: Int
    )
        throws(SystemErrorText)
    {
        let deadline = clinux_monotonic_ns() + Int64(timeoutMs) * 1_000_000
        while clinux_monotonic_ns() < deadline {
            if child.reap() {
                throw SystemErrorText(
                    "\(child.name) exited during start (status \(child.exitStatus ?? -1)); "
                        + "see \(child.logPath):\n\(child.logTail())"
                )
            }
            if let path {
                if DemoFiles.probe(host: host, port: port, path: path) == 200 { return }
            } else if let fd = DemoFiles.connect(host: host, port: port) {
                close(fd)
                return
            }
            usleep(50_000)
        }
        throw SystemErrorText(
            "\(child.name) did not become ready on \(host):\(port) within \(timeoutMs / 1000) s; "
                + "see \(child.logPath):\n\(child.logTail())"
        )
    }

    /// Waits for SIGTERM/SIGINT (returns nil) or for a child to exit on its own (returns that child).
    func waitForSignalOrExit() -> ChildProcess? {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in [SIGTERM, SIGINT, SIGCHLD] { sigaddset(&set, signal) }
        var timeout = timespec(tv_sec: 1, tv_nsec: 0)
        while true {
            let signal = sigtimedwait(&set, nil, &timeout)
            if signal == SIGTERM || signal == SIGINT { return nil }
            // SIGCHLD, or the periodic check (a SIGCHLD can merge with another): who is gone?
            if let gone = children.first(where: { $0.reap() }) { return gone }
        }
    }

    /// SIGTERM to each child in reverse start order, each given `timeoutMs` to exit, then SIGKILL.
    func stopAll(timeoutMs: Int) {
        for child in children.reversed() {
            guard !child.reap() else { continue }
            child.send(SIGTERM)
            let deadline = clinux_monotonic_ns() + Int64(timeoutMs) * 1_000_000
            while !child.reap() && clinux_monotonic_ns() < deadline { usleep(20_000) }
            if !child.reap() {
                Console.error("meshgate demo: \(child.name) did not stop within \(timeoutMs / 1000) s; killing it\n")
                child.send(SIGKILL)
                while !child.reap() { usleep(10_000) }
            }
        }
    }
}
