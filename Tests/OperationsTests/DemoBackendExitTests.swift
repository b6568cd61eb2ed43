import Foundation
import Glibc
import MeshTestSupport
import Testing

/// One process of the demo's stack dying: a backend is reported with the command that starts it again and the
/// gateway keeps serving around it (breaker, fallback); the gateway dying ends the demo (exit 1, nothing left).
@Suite struct DemoBackendExitTests {
    /// The profile upstream with a short breaker and fast health checks, so recovery fits in a test.
    static var quickProfile: [String: Any] {
        [
            "circuit_breaker": ["consecutive_failures": 2, "open_ms": 1000, "half_open_requests": 1],
            "health_check": [
                "path": "/healthz", "interval_ms": 200, "timeout_ms": 200, "unhealthy_threshold": 2,
                "healthy_threshold": 1,
            ],
        ]
    }

    // Regression: issue 15 — `pkill profile-service` stopped the whole demo with exit 1.
    @Test(.timeLimit(.minutes(2)))
    func aKilledBackendIsReportedWithItsRestartCommandAndTheRestKeepsServing() throws {
        let run = try DemoRun(profileUpstream: Self.quickProfile)
        let demo = try run.start()
        try run.waitRunning()
        let alice = try run.registerAndLogIn("alice")
        let profile = #"{"nickname":"Alice","avatar_url":"https://example.com/a.png","preferences":{}}"#
        let saved = try run.request("PUT", "/profiles/alice", body: profile, token: alice)
        #expect(saved.status == 200, "\(saved)")

        let profilePid = try #require(run.childPids()["profile-service"])
        kill(profilePid, SIGKILL)
        let reported = Poll.until(timeoutMs: 10_000) { run.stderr.contains("profile-service exited") }
        #expect(reported, "no report of the exit:\n\(run.stderr)")
        let line = run.stderr.split(separator: "\n").first { $0.contains("profile-service exited") }.map(String.init)
        let report = try #require(line)
        #expect(report.contains("killed by SIGKILL"), "\(report)")
        #expect(report.contains(".meshgate-data/logs/profile-service.log"), "\(report)")
        #expect(!demo.poll(), "the demo ended: \(run.stderr)")

        // The rest of the stack serves through the gateway.
        let bob = try run.registerAndLogIn("bob")
        let follow = try run.request("PUT", "/follows/alice", token: bob)
        #expect(follow.status == 200, "\(follow)")
        // profile-read answers its configured fallback (the default avatar), not an error.
        let fallback = try run.request("GET", "/profiles/alice", token: alice)
        #expect(fallback.status == 200, "\(fallback)")
        #expect(fallback.bodyText.contains("/static/default.png"), "\(fallback)")

        // The printed command, run as printed from another directory, brings the real data back.
        let marker = "start it again with: "
        let command = String(try #require(report.range(of: marker).map { report[$0.upperBound...] }))
        #expect(command.contains("--listen 127.0.0.1:\(run.ports["profile"]!)"), "\(command)")
        #expect(command.contains("--data-dir .meshgate-data/profile-service"), "\(command)")
        #expect(command.contains(">> .meshgate-data/logs/profile-service.log 2>&1"), "\(command)")
        let shell = try Tool.run("/bin/sh", ["-c", command], timeoutMs: 10_000)
        #expect(shell.exitCode == 0, "\(shell.stderr)")
        // open_ms is 1000 and one health check passes it: 10 s is a generous bound.
        let recovered = Poll.until(timeoutMs: 10_000, intervalMs: 100) {
            let answer = try run.request("GET", "/profiles/alice", token: alice)
            return answer.status == 200 && answer.bodyText.contains(#""nickname":"Alice""#)
        }
        #expect(recovered, "the profile never came back")
        let restarted = DemoRun.listenerPids(port: run.ports["profile"]!)
        #expect(restarted.count == 1 && restarted.first != profilePid, "\(restarted)")

        // Ctrl-C still stops everything, the service started by hand included.
        #expect(demo.terminate(signal: SIGTERM, graceMs: 15_000) == .exited(0), "\(run.stderr)")
        #expect(run.stdout.contains("started again by hand"), "\(run.stdout)")
        for (name, port) in run.ports { #expect(DemoRun.isFree(port), "\(name) still listening") }
    }

    @Test(.timeLimit(.minutes(1)))
    func theGatewayExitingStopsTheDemoWithExitOne() throws {
        let run = try DemoRun()
        let demo = try run.start()
        try run.waitRunning()
        let pids = run.childPids()
        let gateway = try #require(pids["meshgate"])
        kill(gateway, SIGKILL)
        let ended = demo.wait(timeoutMs: 15_000)
        #expect(ended == .exited(1), "\(run.stderr)")
        let message = "the gateway (meshgate, pid \(gateway)) exited (killed by SIGKILL)"
        #expect(run.stderr.contains(message), "\(run.stderr)")
        #expect(run.stderr.contains(".meshgate-data/logs/gateway.log"))
        for service in DemoRun.services {
            let pid = try #require(pids[service])
            #expect(DemoRun.isGone(pid), "\(service) left running")
        }
        for (name, port) in run.ports { #expect(DemoRun.isFree(port), "\(name) still listening") }
    }

    /// A start failure other than a port (the port check catches those) still names the service and its log, and
    /// what had started is stopped again.
    @Test(.timeLimit(.minutes(1)))
    func aBackendThatFailsAtStartIsNamedWithItsLogAndTheOthersStop() throws {
        let run = try DemoRun()
        // profile-service cannot open its database when its data directory is a file.
        try FileManager.default.createDirectory(
            atPath: run.directory + "/.meshgate-data", withIntermediateDirectories: true)
        try ChildProcess.writeFile(run.directory + "/.meshgate-data/profile-service", "")
        let demo = try run.start()
        #expect(demo.wait(timeoutMs: 20_000) == .exited(1), "\(run.stderr)")
        #expect(run.stderr.contains("profile-service exited during start (exit code 1)"), "\(run.stderr)")
        #expect(run.stderr.contains("see .meshgate-data/logs/profile-service.log"), "\(run.stderr)")
        let auth = try #require(run.childPids()["auth-service"])
        #expect(DemoRun.isGone(auth))
        for (name, port) in run.ports { #expect(DemoRun.isFree(port), "\(name) still listening") }
    }
}
