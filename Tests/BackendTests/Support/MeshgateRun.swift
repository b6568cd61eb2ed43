import Foundation
import Glibc
import MeshTestSupport

/// A `meshgate run --config FILE` child (more arguments after: `--workers`, `-- app …`) with its output in
/// `logPath`, stopped with SIGTERM by `stop()` or deinit. The one way BackendTests start a gateway: the edge in
/// front of the three services, the sidecar of relationship-service, a bare edge.
final class MeshgateRun {
    let process = Process()
    let logPath: String

    init(config: String, arguments: [String] = [], logPath: String) throws {
        self.logPath = logPath
        process.executableURL = URL(fileURLWithPath: ServiceProcess.binaryDirectory + "/meshgate")
        process.arguments = ["run", "--config", config] + arguments
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var isRunning: Bool { process.isRunning }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Bounded poll (20 s) until the admin listener's `/readyz` is 200 and `also` holds; throws naming `what`
    /// with the log when meshgate exits or the time is up.
    func waitReady(adminPort: UInt16, _ what: String, also: () -> Bool = { true }) throws {
        for _ in 0..<2000 {
            guard process.isRunning else { throw TestSupportError("\(what) exited: \(log())") }
            if (try? HTTPClient.request(port: adminPort, "GET", "/readyz"))?.status == 200, also() { return }
            usleep(10_000)
        }
        throw TestSupportError("\(what) never became ready: \(log())")
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }

    deinit { stop() }
}
