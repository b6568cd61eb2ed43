import CLinux
import Dispatch
import Glibc
import MeshControl
import MeshPosix
import MeshSync

/// Hitless binary upgrade on SIGUSR2 (SPEC §12), the old process's side: start the binary at the path this
/// process was started from, with the same arguments, handing it every listening socket (the workers'
/// SO_REUSEPORT sockets and the admin listener) as inherited descriptors; once it reports ready, stop
/// accepting and drain (SPEC §7), with no socket closed before the new process holds it.
///
/// The sockets are handed over, never reopened: a socket of a SO_REUSEPORT group that closes takes the
/// connections queued on it with it. Both processes accept from the same sockets until the handover, so
/// nothing waits on a process that has stopped accepting. Why inherited descriptors and not SCM_RIGHTS:
/// docs/decisions.md.
enum BinaryUpgrade {
    /// How long the new process has to report ready before it is killed and this one keeps serving.
    static let readyTimeoutMs = 30_000
    /// How long a new process waits for its keys (and app) before it reports ready anyway.
    static let keysWaitMs = 10_000
    /// How long a new process waits for the old one's acknowledgement (its `MAINPID=` is sent by then).
    static let acknowledgementWaitMs = 5_000

    /// Where the upgrade stands in the old process.
    enum Phase: Equatable {
        case idle
        /// A new process was started and has not reported ready yet.
        case starting(pid_t)
        /// The new process is ready and serves; this one drains.
        case handedOver(pid_t)
    }

    /// The binary to start: argv[0] made absolute at start (a relative path would change meaning with the
    /// working directory; a symlink is kept, so flipping `/usr/local/bin/meshgate` to a new release upgrades),
    /// else a PATH search, else what /proc/self/exe names.
    static func executablePath() -> String {
        let first = CommandLine.arguments.first ?? ""
        if first.hasPrefix("/") { return first }
        if first.contains("/") { return currentDirectory() + "/" + first }
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") where !first.isEmpty {
            let candidate = directory.hasPrefix("/") ? "\(directory)/\(first)" : "\(currentDirectory())/\(directory)/\(first)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : first
    }

    private static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        return getcwd(&buffer, buffer.count) != nil ? String(cString: buffer) : "."
    }

    /// The new process's environment: ours, without what described this process only (socket activation,
    /// a previous upgrade, `WATCHDOG_PID`: the new process becomes the main one), plus the hand-over layout.
    static func environment(descriptors: Int, watchdog: Bool) -> [String] {
        var dropped: Set<String> = [
            "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WATCHDOG_PID", InheritedSockets.upgradeFDsVariable,
            InheritedSockets.upgradeChannelVariable,
        ]
        // A watchdog this process did not serve (WATCHDOG_PID named another) is not the new one's either.
        if !watchdog { dropped.insert("WATCHDOG_USEC") }
        let kept = Spawn.currentEnvironment().filter { !dropped.contains(String($0.prefix { $0 != "=" })) }
        return kept + [
            "\(InheritedSockets.upgradeFDsVariable)=\(descriptors)",
            "\(InheritedSockets.upgradeChannelVariable)=\(3 + descriptors)",
        ]
    }
}

extension Gateway {
    /// SIGUSR2 (main thread): starts the new process and waits for it on a thread of its own, so signals are
    /// still served meanwhile. Refused in sidecar mode (the new process would start a second app), while
    /// draining, and while another upgrade runs.
    func startUpgrade() {
        let refusal: String? =
            !options.app.isEmpty ? "sidecar mode: the new process would start a second app; restart instead"
            : isDraining ? "draining" : upgradePhase.withLock { $0 } != .idle ? "an upgrade is already running" : nil
        if let refusal {
            EventLog.warn("binary upgrade refused", ["reason": refusal])
            return
        }
        let path = upgradePath
        do {
            let (pid, channel) = try spawnSuccessor(path)
            upgradePhase.withLock { $0 = .starting(pid) }
            EventLog.info("binary upgrade: new process started", ["path": path, "pid": "\(pid)"])
            WorkerThread(name: "meshgate-upgr") { [self] in awaitSuccessor(pid: pid, channel: channel) }.detach()
        } catch {
            EventLog.error(
                "binary upgrade failed; this process keeps serving", ["path": path, "error": "\(error)"])
        }
    }

    /// Collects the listening sockets (while no reload runs), starts the binary with them as 3, 4, ... and
    /// its end of the ready channel last. Returns the pid and our end of the channel.
    private func spawnSuccessor(_ path: String) throws(SystemError) -> (pid_t, Int32) {
        let (ours, theirs) = try Posix.socketPair()
        defer { Posix.close(theirs) }
        let sockets = state.withLock { _ in listeningSockets() }
        defer { for fd in sockets { Posix.close(fd) } }
        let environment = BinaryUpgrade.environment(descriptors: sockets.count, watchdog: watchdog != nil)
        let arguments = [path] + CommandLine.arguments.dropFirst()
        do {
            let pid = try Spawn.start(
                path: path, arguments: arguments, environment: environment, passing: sockets + [theirs])
            return (pid, ours)
        } catch {
            Posix.close(ours)
            throw error
        }
    }

    /// Copies of every listening socket: each worker's (collected on its own thread) and the admin listener's.
    /// Copies, so a reload that closes a removed listener meanwhile cannot close a number we are passing on.
    private func listeningSockets() -> [Int32] {
        let collected = Locked<[Int32]>([])
        let done = DispatchSemaphore(value: 0)
        for worker in workers {
            worker.loop.execute {
                let copies = worker.listeners.compactMap(\.fd).compactMap { try? Descriptors.duplicate($0) }
                collected.withLock { $0 += copies }
                done.signal()
            }
        }
        let deadline = DispatchTime.now() + .milliseconds(Gateway.applyWaitMs)
        for _ in workers where done.wait(timeout: deadline) == .timedOut { break }
        var sockets = collected.withLock { $0 }
        if let fd = admin?.listeningFD, let copy = try? Descriptors.duplicate(fd) { sockets.append(copy) }
        return sockets
    }

    /// The upgrade thread: waits (bounded) for "READY" from the new process. Ready: hand the service to it and
    /// wake the main thread to drain. Anything else: the new process is stopped and this one keeps serving.
    private func awaitSuccessor(pid: pid_t, channel: Int32) {
        defer { Posix.close(channel) }
        let ready = Descriptors.waitReadable(channel, timeoutMs: BinaryUpgrade.readyTimeoutMs)
        let answer = ready ? String(decoding: Descriptors.readNow(channel), as: UTF8.self) : ""
        guard answer.hasPrefix("READY"), !isDraining else {
            let reason = failureReason(pid: pid, timedOut: !ready, answer: answer)
            EventLog.error("binary upgrade failed; this process keeps serving", ["pid": "\(pid)", "error": reason])
            upgradePhase.withLock { $0 = .idle }
            return
        }
        systemd?.handOver(to: pid)
        watchdog?.stop()
        _ = "GO\n".utf8CString.withUnsafeBytes { try? Posix.write(channel, $0.baseAddress!, $0.count - 1) }
        upgradePhase.withLock { $0 = .handedOver(pid) }
        EventLog.info("binary upgrade: the new process is ready; draining", ["pid": "\(pid)"])
        // The main thread waits in sigwait: the signal that started this tells it to drain now.
        kill(getpid(), SIGUSR2)
    }

    /// Why the new process did not take over; it is stopped (SIGKILL) and reaped if it still runs.
    private func failureReason(pid: pid_t, timedOut: Bool, answer: String) -> String {
        // The channel closes as the process exits, a moment before it can be reaped: wait a little for that.
        if let code = Spawn.reap(pid, waitingMs: timedOut ? 0 : 1000) {
            return "the new process exited with code \(code) before it was ready"
        }
        kill(pid, SIGKILL)
        _ = Spawn.reap(pid, waitingMs: 10_000)
        if isDraining { return "this process began draining first; the new process was stopped" }
        if timedOut { return "the new process was not ready within \(BinaryUpgrade.readyTimeoutMs) ms; killed" }
        return "the new process closed its channel without reporting ready (\(answer.isEmpty ? "no answer" : answer)); killed"
    }

    /// SPEC §7's drain after a handover: the new process accepts on the same sockets, so no grace; this one
    /// stops accepting at once (closing only its copies), answers the requests in progress with `Connection:
    /// close`, and leaves idle keep-alive connections open until their next request is answered (closing one
    /// could cross a request already on its way; HAProxy's `idle-close-on-response`), up to `drain_timeout_ms`.
    func drainAfterUpgrade() -> Int32 {
        // The admin socket first: a /readyz accepted here after `draining` would say 503 for the service.
        admin?.stopAccepting()
        draining.store(true, ordering: .relaxed)
        watcherLock.withLock { $0 }?.stop()
        for worker in workers { worker.loop.execute { worker.beginDrain(closeIdle: false) } }
        waitForConnections()
        return 0
    }

    // MARK: - The new process

    /// A binary upgrade's new process, started: waits (bounded) until it is ready by `/readyz`'s rules, tells
    /// the old process, and waits (bounded) for its acknowledgement, after which this process is the service's
    /// main process for systemd.
    func reportReadyToPreviousProcess(_ channel: Int32) {
        defer { Posix.close(channel) }
        let deadline = clinux_monotonic_ns() + Int64(BinaryUpgrade.keysWaitMs) * 1_000_000
        while !isReady && clinux_monotonic_ns() < deadline { sleepMs(10) }
        let message = Array("READY \(getpid())\n".utf8)
        guard (try? message.withUnsafeBytes { try Posix.write(channel, $0.baseAddress!, $0.count) }) != nil else {
            EventLog.warn("binary upgrade: the old process is gone; serving alone", [:])
            return
        }
        if !Descriptors.waitReadable(channel, timeoutMs: BinaryUpgrade.acknowledgementWaitMs)
            || Descriptors.readNow(channel).isEmpty
        {
            EventLog.warn("binary upgrade: no acknowledgement from the old process", [:])
        }
    }
}
