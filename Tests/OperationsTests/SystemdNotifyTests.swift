import Glibc
import MeshTestSupport
import Testing

/// SPEC §12, systemd: the test plays systemd's side of `NOTIFY_SOCKET` (a filesystem path and an abstract
/// name): `READY=1` only once the listener answers, `RELOADING=1` with `MONOTONIC_USEC` then `READY=1` around
/// a SIGHUP reload, `WATCHDOG=1` pings with `WATCHDOG_USEC`, `STOPPING=1` on SIGTERM.
@Suite struct SystemdNotifyTests {
    @Test(arguments: ["path", "abstract"])
    func notifiesReadyReloadWatchdogAndStopping(namespace: String) throws {
        let upstream = try TestUpstream(.fixed(UpstreamReply(body: "up")))
        defer { upstream.shutdown() }
        let files = try OpsFiles()
        defer { GatewayProcess.removeDirectory(files.directory) }
        try files.writeEdge(upstream: upstream.port)
        let name =
            namespace == "path" ? files.directory + "/notify" : "@meshgate-test-\(getpid())-\(files.port)"
        let receiver = try NotifyReceiver(name: name)
        // 200 ms: a ping every 100 ms, so several arrive while the test runs.
        let gateway = try SpawnedGateway(
            binary: try GatewayProcess.binaryPath(), arguments: SpawnedGateway.arguments(config: files.path),
            directory: files.directory, environment: ["NOTIFY_SOCKET": name, "WATCHDOG_USEC": "200000"])

        let ready = receiver.nextState()
        #expect(ready?.hasPrefix("READY=1") == true, "\(receiver.messages)\n\(gateway.stdout)")
        // READY=1 means serving: the listener answers at once, no retry.
        let client = try RawClient(port: files.port)
        #expect(try client.get("/").bodyText == "up")

        let pings = receiver.messages.filter { $0 == "WATCHDOG=1" }.count
        let morePings = receiver.next { $0 == "WATCHDOG=1" } != nil && receiver.next { $0 == "WATCHDOG=1" } != nil
        #expect(morePings, "no WATCHDOG=1 pings (\(pings) before READY): \(receiver.messages)")

        kill(gateway.pid, SIGHUP)
        let reloading = receiver.nextState()
        #expect(reloading?.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") == true, "\(String(describing: reloading))")
        let stamp = reloading?.split(separator: "=").last.flatMap { Int64($0) }
        #expect(stamp.map { $0 > 0 } == true, "MONOTONIC_USEC is not a number: \(String(describing: reloading))")
        let reloaded = receiver.nextState()
        #expect(reloaded?.hasPrefix("READY=1") == true, "\(String(describing: reloaded))")
        #expect(try client.get("/").bodyText == "up")

        kill(gateway.pid, SIGTERM)
        let stopping = receiver.nextState()
        #expect(stopping == "STOPPING=1", "\(String(describing: stopping))")
        #expect(gateway.wait(timeoutMs: 10_000) == 0, "\(gateway.stdout)")
    }

    /// `WATCHDOG_PID` naming another process: the pings are that process's business, not this one's.
    @Test func noWatchdogWhenWatchdogPIDIsAnotherProcess() throws {
        let upstream = try TestUpstream(.fixed(UpstreamReply(body: "up")))
        defer { upstream.shutdown() }
        let files = try OpsFiles()
        defer { GatewayProcess.removeDirectory(files.directory) }
        try files.writeEdge(upstream: upstream.port)
        let receiver = try NotifyReceiver(name: files.directory + "/notify")
        let gateway = try SpawnedGateway(
            binary: try GatewayProcess.binaryPath(), arguments: SpawnedGateway.arguments(config: files.path),
            directory: files.directory,
            environment: ["NOTIFY_SOCKET": files.directory + "/notify", "WATCHDOG_USEC": "100000", "WATCHDOG_PID": "1"])
        #expect(receiver.nextState()?.hasPrefix("READY=1") == true)
        // Ten ping intervals of silence (bounded wait for something that must not come).
        #expect(receiver.next(timeoutMs: 500) { $0 == "WATCHDOG=1" } == nil, "\(receiver.messages)")
        kill(gateway.pid, SIGTERM)
        #expect(gateway.wait(timeoutMs: 10_000) == 0)
    }

    /// A binary upgrade under systemd: the old (main) process sends `MAINPID=` with the new pid once the new one
    /// is ready, and nothing after it (its drain is no `STOPPING=1` of the service); the watchdog pings come
    /// from the new process from then on, and its SIGTERM is the service's `STOPPING=1`.
    @Test func binaryUpgradeHandsTheServiceToTheNewProcess() throws {
        let upstream = try TestUpstream(.fixed(UpstreamReply(body: "up")))
        defer { upstream.shutdown() }
        let files = try OpsFiles()
        defer { GatewayProcess.removeDirectory(files.directory) }
        try files.writeEdge(upstream: upstream.port)
        let name = files.directory + "/notify"
        let receiver = try NotifyReceiver(name: name)
        let gateway = try SpawnedGateway(
            binary: try GatewayProcess.binaryPath(), arguments: SpawnedGateway.arguments(config: files.path),
            directory: files.directory, environment: ["NOTIFY_SOCKET": name, "WATCHDOG_USEC": "200000"])
        #expect(receiver.nextState()?.hasPrefix("READY=1") == true, "\(receiver.messages)")
        #expect(receiver.senders.last == gateway.pid)

        kill(gateway.pid, SIGUSR2)
        let handover = receiver.nextState()
        let newPID = handover.flatMap { $0.split(separator: "\n").first }.flatMap { pid_t($0.dropFirst(8)) }
        #expect(handover?.hasPrefix("MAINPID=") == true && receiver.senders.last == gateway.pid, "\(receiver.messages)")
        let from = receiver.messages.count
        guard let newPID else { return }
        defer { kill(newPID, SIGKILL) }
        #expect(newPID != gateway.pid)
        #expect(gateway.wait(timeoutMs: 10_000) == 0, "the old process did not drain")
        #expect(receiver.next { $0 == "WATCHDOG=1" } != nil)
        #expect(receiver.senders.last == newPID, "the watchdog pings after the upgrade come from \(receiver.senders)")
        #expect(try RawClient(port: files.port).get("/").bodyText == "up")
        kill(newPID, SIGTERM)
        #expect(receiver.nextState() == "STOPPING=1")
        #expect(receiver.senders.last == newPID)
        // The old process said nothing after MAINPID= (no STOPPING=1 of its own drain).
        let late = zip(receiver.messages, receiver.senders).dropFirst(from).filter { $0.1 == gateway.pid }
        #expect(late.isEmpty, "\(late)")
        #expect(Poll.until(timeoutMs: 10_000) { !SpawnedGateway.isAlive(newPID) })
    }
}
