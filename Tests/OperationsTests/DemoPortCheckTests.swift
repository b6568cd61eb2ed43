import Foundation
import Glibc
import MeshTestSupport
import Testing

/// Every port the demo needs is checked before anything starts: a taken one is named with what it is for and
/// who holds it, the demo exits 1, and no process was started.
@Suite struct DemoPortCheckTests {
    /// Role in `DemoRun.ports` → how the message names it.
    static let purposes = [
        "auth": "auth-service",
        "relationships": "relationship-service",
        "edge": "the gateway's listener 'edge'",
        "admin": "the gateway's admin listener",
        "https": "the demo's HTTPS listener",
    ]

    // Regression: issue 15 — a taken port showed up late, after other services had started.
    @Test(.timeLimit(.minutes(1)), arguments: ["auth", "relationships", "edge", "admin", "https"])
    func aTakenPortIsNamedAndNothingStarts(role: String) throws {
        let run = try DemoRun()
        let port = run.ports[role]!
        let holder = try TestSocket.listen(port: port, backlog: 1)
        defer { close(holder.fd) }
        let demo = try run.start()
        #expect(demo.wait(timeoutMs: 15_000) == .exited(1), "\(run.stdout)\n\(run.stderr)")
        let message = run.stderr
        #expect(message.contains("port \(port) (127.0.0.1:\(port), for \(Self.purposes[role]!)) is already in use"))
        #expect(message.contains("by pid \(getpid())"), "the holder is this test process: \(message)")
        #expect(message.contains("Nothing was started"), "\(message)")
        #expect(!run.stdout.contains("started "), "\(run.stdout)")
        for (name, other) in run.ports where other != port { #expect(DemoRun.isFree(other), "\(name) listening") }
    }

    @Test(.timeLimit(.minutes(1)))
    func aPortGivenTwiceIsNamedBeforeAnythingStarts() throws {
        // The profile upstream moved onto the edge listener's port: both cannot bind.
        let run = try DemoRun()
        let edge = run.ports["edge"]!
        let profile = "127.0.0.1:\(run.ports["profile"]!)"
        let text = ChildProcess.readFile(run.directory + "/routes.json")
        try ChildProcess.writeFile(
            run.directory + "/routes.json", text.replacingOccurrences(of: profile, with: "127.0.0.1:\(edge)"))
        let demo = try run.start()
        #expect(demo.wait(timeoutMs: 15_000) == .exited(1), "\(run.stdout)\n\(run.stderr)")
        #expect(run.stderr.contains("port \(edge) is configured twice"), "\(run.stderr)")
        #expect(!run.stdout.contains("started "), "\(run.stdout)")
    }
}
