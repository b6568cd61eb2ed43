import CLinux
import Glibc
import MeshControl
import MeshPosix
import MeshSync
import Synchronization

/// systemd's notification protocol (sd_notify(3), SPEC §12) without libsystemd: datagrams to `NOTIFY_SOCKET`
/// (a path or `@abstract`). `READY=1` once listeners are bound and workers run, `RELOADING=1` (with
/// `MONOTONIC_USEC`, which `Type=notify-reload` wants since systemd 253) and `READY=1` around reloads,
/// `STOPPING=1` when draining, `MAINPID=` when a binary upgrade hands the service to the new process.
///
/// Any thread. After `retire()` (this process is no longer the service's main process) nothing is sent.
final class SystemdNotify: Sendable {
    private let socket: UnixDatagram
    /// Whether this process handed the service over; sends happen under its lock, so no message of this
    /// process can follow its `MAINPID=`.
    private let retired = Locked(false)
    /// The first failed send is logged; later ones would repeat it.
    private let failureLogged = Atomic<Bool>(false)

    private init(socket: UnixDatagram) { self.socket = socket }

    /// Nil without `NOTIFY_SOCKET` (not started by systemd as `Type=notify`). The variable stays set: a
    /// binary upgrade's new process needs it.
    static func fromEnvironment() -> SystemdNotify? {
        guard let name = getenv("NOTIFY_SOCKET").map({ String(cString: $0) }), !name.isEmpty else { return nil }
        guard let socket = UnixDatagram(name: name) else {
            EventLog.warn("NOTIFY_SOCKET is not a usable Unix socket name; not notifying systemd", ["socket": name])
            return nil
        }
        return SystemdNotify(socket: socket)
    }

    func ready(status: String? = nil) { send("READY=1" + (status.map { "\nSTATUS=" + $0 } ?? "")) }

    func reloading() {
        // CLOCK_MONOTONIC in µs: systemd uses it to tell this reload's READY=1 from an older one's.
        send("RELOADING=1\nMONOTONIC_USEC=\(clinux_monotonic_ns() / 1000)")
    }

    /// `STATUS=` after a reload: what `systemctl status` shows.
    static func status(afterReload errors: [String]) -> String {
        errors.isEmpty ? "serving" : "reload rejected, the running config stays: \(errors[0])"
    }

    func stopping() { send("STOPPING=1") }

    func watchdog() { send("WATCHDOG=1") }

    /// A binary upgrade is complete: the service's main process is `pid` from now on, and this one says
    /// nothing more (systemd would refuse it, or with `NotifyAccess=all` take a STOPPING=1 for the service's).
    func handOver(to pid: pid_t) {
        send("MAINPID=\(pid)\nSTATUS=upgraded to pid \(pid)", retiring: true)
    }

    var isRetired: Bool { retired.withLock { $0 } }

    private func send(_ message: String, retiring: Bool = false) {
        let failure: SystemError? = retired.withLock { retired in
            guard !retired else { return nil }
            retired = retiring
            do throws(SystemError) {
                try socket.send(Array(message.utf8))
                return nil
            } catch {
                return error
            }
        }
        if let failure, !failureLogged.exchange(true, ordering: .relaxed) {
            EventLog.warn("cannot notify systemd", ["error": failure.description])
        }
    }
}

/// `WATCHDOG=1` every `WATCHDOG_USEC / 2` while every worker's loop answers: each round posts a no-op to each
/// loop and the next round pings only if all of them ran it, so a stuck worker lets systemd's watchdog fire
/// (and restart the service) instead of a timer thread vouching for it.
final class SystemdWatchdog: @unchecked Sendable {
    private let notify: SystemdNotify
    private let intervalMs: Int
    private let workers: [Worker]
    private let answered = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)

    /// Nil without `WATCHDOG_USEC`, or when `WATCHDOG_PID` names another process.
    init?(notify: SystemdNotify, workers: [Worker]) {
        guard let usec = getenv("WATCHDOG_USEC").flatMap({ Int(String(cString: $0)) }), usec > 0 else { return nil }
        if let pid = getenv("WATCHDOG_PID").flatMap({ pid_t(String(cString: $0)) }), pid != getpid() { return nil }
        self.notify = notify
        intervalMs = max(1, usec / 2000)
        self.workers = workers
    }

    static var isRequested: Bool { getenv("WATCHDOG_USEC") != nil }

    func start() {
        WorkerThread(name: "meshgate-wdog") { [self] in run() }.detach()
    }

    func stop() { stopped.store(true, ordering: .relaxed) }

    private func run() {
        var posted = 0
        while !stopped.load(ordering: .relaxed) && !notify.isRetired {
            if answered.load(ordering: .relaxed) == posted {
                notify.watchdog()
            } else {
                EventLog.warn("a worker's loop did not answer; withholding the systemd watchdog ping", [:])
            }
            answered.store(0, ordering: .relaxed)
            posted = workers.count
            for worker in workers { worker.loop.execute { [self] in answered.add(1, ordering: .relaxed) } }
            sleepInSlices(intervalMs)
        }
    }

    /// Sleeps in slices of at most 100 ms, so `stop()` takes effect soon.
    private func sleepInSlices(_ ms: Int) {
        var left = ms
        while left > 0 && !stopped.load(ordering: .relaxed) {
            let slice = min(left, 100)
            var request = timespec(tv_sec: 0, tv_nsec: slice * 1_000_000)
            var remaining = timespec()
            while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
            left -= slice
        }
    }
}

extension Gateway {
    /// Start-up is complete (listeners bound, workers running): a binary upgrade's new process tells the old
    /// one (which sends systemd `MAINPID=` for it), otherwise systemd gets `READY=1`. Then the watchdog starts.
    func announceReady() {
        if let channel = inherited.upgradeChannel {
            reportReadyToPreviousProcess(channel)
        } else {
            systemd?.ready(status: "serving")
        }
        guard let systemd else { return }
        if let watchdog = SystemdWatchdog(notify: systemd, workers: workers) {
            self.watchdog = watchdog
            watchdog.start()
        }
    }
}
