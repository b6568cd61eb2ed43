import Foundation
import Glibc

/// An edge `meshgate run` in front of backends (routes and upstreams as JSON fragments), on free ports, with its
/// output in `log`; stopped (SIGTERM) on deinit.
final class EdgeGateway {
    let port: UInt16
    let adminPort: UInt16
    let logPath: String
    private let process = Process()

    init(directory: String, routes: String, upstreams: String) throws {
        port = try ServiceProcess.freePort()
        adminPort = try ServiceProcess.freePort()
        let config = """
            {"version": 1, "admin": {"address": "127.0.0.1:\(adminPort)"},
             "listeners": [{"name": "edge", "address": "127.0.0.1:\(port)", "routes": [\(routes)]}],
             "upstreams": {\(upstreams)}}
            """
        try config.write(toFile: directory + "/edge.json", atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: ServiceProcess.binaryDirectory + "/meshgate")
        process.arguments = ["run", "--config", directory + "/edge.json", "--workers", "1"]
        logPath = directory + "/edge.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        for _ in 0..<2000 {
            if (try? HTTPClient.request(port: adminPort, "GET", "/readyz"))?.status == 200 { return }
            guard process.isRunning else { break }
            usleep(10_000)
        }
        throw HTTPClientError(description: "the edge gateway did not become ready: \(log())")
    }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    deinit {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }
}
