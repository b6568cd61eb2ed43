import Foundation
import Glibc
import MeshTestSupport
import Testing

/// `meshgate demo` as a user runs it: in a directory holding a routes.json (here moved to free ports), it starts
/// the three backends and the gateway, and stops them all on SIGTERM with exit 0.
@Suite struct DemoCommandTests {
    /// A working directory with a routes.json whose backends, edge and admin sit on free ports.
    final class DemoDirectory {
        let path: String
        let ports: [String: UInt16]

        init() throws {
            path = try ServiceProcess.temporaryDirectory("demo")
            var ports: [String: UInt16] = [:]
            for name in ["auth", "profile", "relationships", "edge", "admin", "https", "sidecar", "sidecar-admin"] {
                ports[name] = try TestSocket.freePort()
            }
            self.ports = ports
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("routes.json")
            let config = try String(contentsOf: source, encoding: .utf8)
                .replacingOccurrences(of: "\"$schema\": \"./routes.schema.json\",", with: "")
                .replacingOccurrences(of: "127.0.0.1:9101", with: "127.0.0.1:\(ports["auth"]!)")
                .replacingOccurrences(of: "127.0.0.1:9102", with: "127.0.0.1:\(ports["profile"]!)")
                .replacingOccurrences(of: "127.0.0.1:9103", with: "127.0.0.1:\(ports["relationships"]!)")
                .replacingOccurrences(of: "127.0.0.1:8080", with: "127.0.0.1:\(ports["edge"]!)")
                .replacingOccurrences(of: "127.0.0.1:9901", with: "127.0.0.1:\(ports["admin"]!)")
            try config.write(toFile: path + "/routes.json", atomically: true, encoding: .utf8)
            // The edge's REST→gRPC route reads the descriptor set by its path relative to the demo's directory.
            let protos = source.deletingLastPathComponent().appendingPathComponent("backends/protos/profile.pb")
            try FileManager.default.createDirectory(atPath: path + "/backends/protos", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: protos.path, toPath: path + "/backends/protos/profile.pb")
            // relationship-service's sidecar (issue 16), moved to the same ports.
            let sidecar = try SidecarStack.shippedConfig()
                .replacingOccurrences(of: "\"$schema\": \"./routes.schema.json\",", with: "")
                .replacingOccurrences(of: "127.0.0.1:9102", with: "127.0.0.1:\(ports["profile"]!)")
                .replacingOccurrences(of: "127.0.0.1:9103", with: "127.0.0.1:\(ports["relationships"]!)")
                .replacingOccurrences(of: "127.0.0.1:15102", with: "127.0.0.1:\(ports["sidecar"]!)")
                .replacingOccurrences(of: "127.0.0.1:9913", with: "127.0.0.1:\(ports["sidecar-admin"]!)")
            try sidecar.write(toFile: path + "/sidecar-relationships.json", atomically: true, encoding: .utf8)
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }

        /// Starts `meshgate demo` here; output goes to `demo.out` / `demo.err`.
        func start() throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ServiceProcess.binaryDirectory + "/meshgate")
            process.arguments = ["demo", "--https-port", "\(ports["https"]!)"]
            process.currentDirectoryURL = URL(fileURLWithPath: path)
            for name in ["demo.out", "demo.err"] {
                _ = FileManager.default.createFile(atPath: path + "/" + name, contents: nil)
            }
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: path + "/demo.out"))
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: path + "/demo.err"))
            try process.run()
            return process
        }

        func output(_ name: String) -> String {
            (try? String(contentsOfFile: path + "/" + name, encoding: .utf8)) ?? ""
        }

        /// Bounded wait (20 s) for the walkthrough, which is printed once everything is ready.
        func waitRunning(_ process: Process) throws {
            for _ in 0..<2000 {
                if output("demo.out").contains("meshgate demo is running") { return }
                guard process.isRunning else { break }
                usleep(10_000)
            }
            throw TestSupportError("demo did not start: \(output("demo.out")) \(output("demo.err"))")
        }
    }

    @Test func startsEverythingAndStopsCleanlyOnSIGTERM() throws {
        let directory = try DemoDirectory()
        let demo = try directory.start()
        try directory.waitRunning(demo)
        let edge = directory.ports["edge"]!
        let register = try HTTPClient.json(
            port: edge,
            "POST",
            "/auth/register",
            #"{"username":"demo_user","password":"demo-password"}"#
        )
        #expect(register.status == 201, "\(register.text)")
        for service in ["auth-service", "profile-service", "relationship-service", "gateway"] {
            #expect(FileManager.default.fileExists(atPath: "\(directory.path)/.meshgate-data/logs/\(service).log"))
        }
        #expect(FileManager.default.fileExists(atPath: "\(directory.path)/.meshgate-data/auth-service/users.sqlite3"))
        #expect(directory.output("demo.out").contains(".meshgate-data/logs"))
        kill(demo.processIdentifier, SIGTERM)
        demo.waitUntilExit()
        #expect(demo.terminationStatus == 0)
        // Every child is gone: nothing listens on their ports any more.
        for name in ["auth", "profile", "relationships", "edge", "sidecar", "sidecar-admin"] {
            #expect((try? TestSocket.connect(port: directory.ports[name]!)).map { close($0) } == nil, "\(name)")
        }
    }

    /// A port the demo needs is taken: it says which, by whom, and starts nothing (issue 15; a backend that
    /// fails later is named with its log in OperationsTests' DemoBackendExitTests).
    @Test func aTakenPortIsNamedBeforeAnythingStarts() throws {
        let directory = try DemoDirectory()
        let blocker = try ServiceProcess("relationship-service", port: directory.ports["profile"]!)
        let demo = try directory.start()
        demo.waitUntilExit()
        #expect(demo.terminationStatus == 1)
        let error = directory.output("demo.err")
        #expect(error.contains("port \(directory.ports["profile"]!)"), "\(error)")
        #expect(error.contains("for profile-service") && error.contains("Nothing was started"), "\(error)")
        #expect((try? TestSocket.connect(port: directory.ports["auth"]!)).map { close($0) } == nil)
        #expect(blocker.isRunning)
    }
}
