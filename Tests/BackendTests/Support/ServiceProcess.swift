import Foundation
import Glibc
import MeshTestSupport

/// A backend (or gateway) binary started as a real child process for a test, on a free port, with its own
/// temporary data directory, stdout/stderr in `logPath`.
///
/// The binaries sit next to the test bundle in `.build/<triple>/<config>/` (the test target depends on the
/// executable targets, so `swift test` builds them).
final class ServiceProcess {
    let binary: String
    let port: UInt16
    let dataDirectory: String
    let logPath: String
    let arguments: [String]
    private(set) var process: Process
    /// Whether the data directory was made here (and is removed when the test is done with it).
    private let ownsDirectory: Bool

    /// Starts `binary --listen 127.0.0.1:<port> --data-dir <dir> arguments...` and waits for `/healthz`.
    init(_ binary: String, dataDirectory: String? = nil, port: UInt16? = nil, arguments: [String] = []) throws {
        self.binary = binary
        self.port = try port ?? TestSocket.freePort()
        self.dataDirectory = try dataDirectory ?? ServiceProcess.temporaryDirectory(binary)
        ownsDirectory = dataDirectory == nil
        logPath = self.dataDirectory + "/\(binary).\(self.port).log"
        self.arguments = arguments
        process = Process()
        try launch()
    }

    deinit {
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        if ownsDirectory { try? FileManager.default.removeItem(atPath: dataDirectory) }
    }

    /// The directory holding the package's built binaries.
    static var binaryDirectory: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return (executable as NSString).deletingLastPathComponent
    }

    private func launch() throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: ServiceProcess.binaryDirectory + "/" + binary)
        process.arguments = ["--listen", "127.0.0.1:\(port)", "--data-dir", dataDirectory] + arguments
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        try waitHealthy()
    }

    /// Polls `/healthz` (bounded: 15 s) until it answers 200.
    func waitHealthy() throws {
        for _ in 0..<1500 {
            guard process.isRunning else {
                throw TestSupportError("\(binary) exited (\(process.terminationStatus)): \(log())")
            }
            if let reply = try? HTTPClient.request(port: port, "GET", "/healthz"), reply.status == 200 { return }
            usleep(10_000)
        }
        throw TestSupportError("\(binary) never became healthy: \(log())")
    }

    var isRunning: Bool { process.isRunning }

    /// Sends `signal` and waits for the exit; returns the exit status (or the signal number, negated).
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM) -> Int32 {
        Glibc.kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal ? -process.terminationStatus : process.terminationStatus
    }

    /// Starts the same binary again on the same port and data directory (after `stop`).
    func restart() throws {
        try launch()
    }

    /// The process's output so far.
    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    static func temporaryDirectory(_ prefix: String) throws -> String {
        var template = Array("/tmp/meshgate-\(prefix)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestSupportError("mkdtemp failed") }
        return String(cString: made)
    }
}
