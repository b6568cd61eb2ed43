import Glibc
import MeshTestSupport
import Testing

/// Closing the terminal or killing the demo must not leak its stack: SIGHUP stops it like Ctrl-C, and a demo
/// killed with SIGKILL takes its children with it (each carries PR_SET_PDEATHSIG, set by the exec shim).
@Suite struct DemoSignalTests {
    /// Bounded wait (10 s) until every process the demo started is gone and no demo port accepts.
    static func stackIsGone(_ run: DemoRun, pids: [String: pid_t]) -> Bool {
        Poll.until(timeoutMs: 10_000, intervalMs: 50) {
            pids.values.allSatisfy(DemoRun.isGone) && run.ports.values.allSatisfy(DemoRun.isFree)
        }
    }

    // Regression: issue 15 — closing the terminal killed the demo and left the services running.
    @Test(.timeLimit(.minutes(1)))
    func hangUpStopsEveryChildAndExits() throws {
        let run = try DemoRun()
        let demo = try run.start()
        try run.waitRunning()
        let pids = run.childPids()
        // Three backends, the gateway and the HTTPS gateway in front of it.
        #expect(pids.count == 5, "\(run.stdout)")
        kill(demo.pid, SIGHUP)
        #expect(demo.wait(timeoutMs: 15_000) == .exited(0), "\(run.stderr)")
        #expect(run.stdout.contains("stopping… (SIGHUP)"), "\(run.stdout)")
        #expect(Self.stackIsGone(run, pids: pids), "left: \(pids.filter { !DemoRun.isGone($0.value) })")
    }

    // Regression: issue 15 — a demo killed with SIGKILL left its four children running.
    @Test(.timeLimit(.minutes(1)))
    func childrenDieWithAKilledDemo() throws {
        let run = try DemoRun()
        let demo = try run.start()
        try run.waitRunning()
        let pids = run.childPids()
        // Three backends, the gateway and the HTTPS gateway in front of it.
        #expect(pids.count == 5, "\(run.stdout)")
        #expect(demo.terminate(signal: SIGKILL, graceMs: 5000) == .signaled(SIGKILL))
        #expect(Self.stackIsGone(run, pids: pids), "left: \(pids.filter { !DemoRun.isGone($0.value) })")
    }
}
