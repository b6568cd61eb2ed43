import CLinux
import Glibc
import MeshPosix
import MeshConfig

/// Watches the demo's children: readiness waits, the signal loop, and the ordered stop.
///
/// Runs on the main thread only; the stop signals and SIGCHLD are blocked and taken with `sigtimedwait`, so no
/// signal handler ever runs. A backend that exits is reported with the command that starts it again, and the
/// rest keeps running (the gateway answers for it with its breaker and fallbacks, which is what the demo is
/// there to show); the gateway exiting ends the demo, since nothing is reachable without it.
struct DemoSupervisor {
    /// A started backend and the address it listens on.
    struct Backend {
        let child: ChildProcess
        let address: HostPort
    }

    /// How the watch ended.
    enum Ending {
        /// One of the stop signals arrived (SIGTERM, SIGINT, SIGHUP).
        case signal(Int32)
        /// The gateway exited on its own.
        case gatewayExited(ChildProcess)
    }

    /// Signals that stop the demo (SIGHUP only when it was not ignored at start, as under `nohup`).
    let stopSignals: [Int32]
    /// The directory the demo and its children run in; restart commands `cd` there first.
    let directory: String
    /// In start order; stopped in reverse (the gateway first, so no request reaches a stopping backend).
    private(set) var backends: [Backend] = []
    private(set) var gateway: ChildProcess?
    /// Backends whose exit was already reported (pids).
    private var reported: Set<pid_t> = []

    init(stopSignals: [Int32], directory: String) {
        self.stopSignals = stopSignals
        self.directory = directory
    }

    mutating func add(backend child: ChildProcess, address: HostPort) {
        backends.append(Backend(child: child, address: address))
    }

    mutating func add(gateway child: ChildProcess) { gateway = child }

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
                    "\(child.name) exited during start (\(child.endedHow ?? "?")); "
                        + "see \(child.logPath):\n\(child.logTail())"
                )
            }
            if let path {
                if DemoFiles.probe(host: host, port: port, path: path) == 200 { return }
            } else if DemoFiles.accepts(host: host, port: port) {
                return
            }
            usleep(50_000)
        }
        throw SystemErrorText(
            "\(child.name) did not become ready on \(host):\(port) within \(timeoutMs / 1000) s; "
                + "see \(child.logPath):\n\(child.logTail())"
        )
    }

    /// Waits for a stop signal or for the gateway to exit; reports each backend that exits meanwhile.
    mutating func watch() -> Ending {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in stopSignals + [SIGCHLD] { sigaddset(&set, signal) }
        var timeout = timespec(tv_sec: 1, tv_nsec: 0)
        while true {
            let signal = sigtimedwait(&set, nil, &timeout)
            if stopSignals.contains(signal) { return .signal(signal) }
            // SIGCHLD, or the periodic check (a SIGCHLD can merge with another): who is gone?
            if let gateway, gateway.reap() { return .gatewayExited(gateway) }
            for backend in backends where !reported.contains(backend.child.pid) && backend.child.reap() {
                reported.insert(backend.child.pid)
                Console.error(DemoRestart.exitLine(backend, directory: directory) + "\n")
            }
        }
    }

    /// SIGTERM to each child in reverse start order, each given `timeoutMs` to exit, then SIGKILL; then any
    /// backend the user started again by hand with the printed command ("Ctrl-C stops everything").
    func stopAll(timeoutMs: Int) {
        // Only a backend that had exited before the stop can have been started again by hand.
        let exitedBefore = backends.filter { $0.child.reap() }
        let children = (gateway.map { [$0] } ?? []) + backends.reversed().map(\.child)
        for child in children {
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
        for backend in exitedBefore {
            DemoRestart.stopHandStarted(backend, timeoutMs: timeoutMs)
        }
    }
}
