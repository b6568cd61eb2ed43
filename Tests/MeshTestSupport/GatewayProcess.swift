import Foundation
import Glibc

/// The real `meshgate` binary under test: writes a config into a temp dir, spawns `meshgate run`, waits
/// (bounded) until its listener accepts, and stops it with SIGTERM (SIGKILL after a bound).
public final class GatewayProcess {
    /// The spawned process (pid, stdout/stderr files, termination).
    public let child: ChildProcess
    /// The port of the listener it was told to open.
    public let port: UInt16
    /// Its private temp directory (config and output files).
    public let directory: String

    /// Starts `meshgate run --config <dir>/config.json --workers N` with `configJSON` and waits until `port`
    /// accepts connections (up to `readyTimeoutMs`); throws with the gateway's output if it exits or times out.
    /// `environment` adds variables (e.g. a provider's `secret_env`); `stdoutToUnreadPipe` makes its stdout a
    /// pipe nobody reads (a stuck log consumer), so `stdout` stays empty.
    public init(
        configJSON: String, port: UInt16, workers: Int = 1, readyTimeoutMs: Int = 15_000,
        environment: [String: String] = [:], stdoutToUnreadPipe: Bool = false
    ) throws {
        directory = try GatewayProcess.makeTempDirectory()
        self.port = port
        let configPath = directory + "/config.json"
        try ChildProcess.writeFile(configPath, configJSON)
        child = try ChildProcess(
            path: try GatewayProcess.binaryPath(),
            arguments: ["run", "--config", configPath, "--workers", "\(workers)"],
            outputPrefix: directory + "/meshgate", environment: environment, stdoutToUnreadPipe: stdoutToUnreadPipe)
        try waitUntilReady(timeoutMs: readyTimeoutMs)
    }

    /// Starts `meshgate <arguments>` (the caller wrote the config it names, e.g. under `directory`) and waits
    /// until `port` accepts, as above. `directory` becomes this process's to remove; `meshgate` output goes there.
    public init(arguments: [String], directory: String, port: UInt16, readyTimeoutMs: Int = 15_000) throws {
        self.directory = directory
        self.port = port
        child = try ChildProcess(
            path: try GatewayProcess.binaryPath(), arguments: arguments, outputPrefix: directory + "/meshgate")
        try waitUntilReady(timeoutMs: readyTimeoutMs)
    }

    deinit {
        _ = child.terminate(signal: SIGKILL, graceMs: 2000)
        GatewayProcess.removeDirectory(directory)
    }

    private func waitUntilReady(timeoutMs: Int) throws {
        let deadline = TestSocket.nowMs() + timeoutMs
        while true {
            if child.poll() {
                throw TestSupportError(
                    "meshgate exited (\(child.termination!)) before listening:\n\(child.stdout)\n\(child.stderr)")
            }
            // The port answering is not enough: a free port handed to two tests at once may answer for the
            // other test's gateway while this one exits 3. Ready means this process holds the listening socket.
            if let fd = try? TestSocket.connect(port: port, timeoutMs: 1000) {
                close(fd)
                if Self.holdsListener(pid: child.pid, port: port) { return }
            }
            if TestSocket.nowMs() > deadline {
                child.terminate(signal: SIGKILL)
                throw TestSupportError("meshgate not listening on \(port) after \(timeoutMs) ms:\n\(child.stdout)")
            }
            usleep(5000)
        }
    }

    /// Whether process `pid` has a socket listening on TCP `port` (its inode, from /proc/net/tcp{,6}, among the
    /// process's descriptors).
    static func holdsListener(pid: pid_t, port: UInt16) -> Bool {
        let hexPort = ":" + String(format: "%04X", port)
        var inodes: Set<String> = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = readProcFile(table) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let columns = line.split(separator: " ")
                // local_address is column 1, st (0A = LISTEN) column 3, inode column 9.
                guard columns.count > 9, columns[1].hasSuffix(hexPort), columns[3] == "0A" else { continue }
                inodes.insert(String(columns[9]))
            }
        }
        guard !inodes.isEmpty, let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")
        else { return false }
        for fd in fds {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"),
                target.hasPrefix("socket:[")
            else { continue }
            if inodes.contains(String(target.dropFirst(8).dropLast())) { return true }
        }
        return false
    }

    /// A /proc file read to its end (they report size 0, so a size-based read sees only the first page).
    static func readProcFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Process id.
    public var pid: pid_t { child.pid }
    /// True while the process has not exited.
    public var isRunning: Bool { !child.poll() }
    /// Its stdout (JSON log lines) so far.
    public var stdout: String { child.stdout }

    /// SIGTERM, then SIGKILL after `graceMs`; returns how it ended.
    @discardableResult
    public func stop(graceMs: Int = 5000) -> Termination { child.terminate(signal: SIGTERM, graceMs: graceMs) }

    /// A `VmHWM`/`VmRSS`-style field of /proc/PID/status in KiB, or nil.
    public func memoryKiB(_ field: String) -> Int? {
        let status = ChildProcess.readFile("/proc/\(pid)/status")
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.dropFirst(field.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
        }
        return nil
    }

    /// Peak resident set size (VmHWM) in KiB.
    public var peakRSSKiB: Int? { memoryKiB("VmHWM") }

    // MARK: - One-shot commands

    /// The result of a one-shot `meshgate` command.
    public struct CommandResult: Sendable {
        /// How it ended (SIGKILL if it overran the bound).
        public let termination: Termination
        /// Its stdout.
        public let stdout: String
        /// Its stderr.
        public let stderr: String
    }

    /// Runs `meshgate <arguments>` to completion (killed after `timeoutMs`).
    public static func command(_ arguments: [String], timeoutMs: Int = 15_000) throws -> CommandResult {
        let directory = try makeTempDirectory()
        let child = try ChildProcess(path: try binaryPath(), arguments: arguments, outputPrefix: directory + "/cmd")
        let termination = child.wait(timeoutMs: timeoutMs) ?? child.terminate(signal: SIGKILL)
        defer { removeDirectory(directory) }
        return CommandResult(termination: termination, stdout: child.stdout, stderr: child.stderr)
    }

    // MARK: - Paths

    /// The built `meshgate` executable: `MESHGATE_BINARY`, else next to the running test bundle.
    public static func binaryPath() throws -> String {
        if let override = getenv("MESHGATE_BINARY") { return String(cString: override) }
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { throw TestSupportError.system("readlink /proc/self/exe") }
        let exe = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var directory = exe[..<(exe.lastIndex(of: "/") ?? exe.endIndex)]
        // The test binary may sit inside a bundle directory (…/debug/X.xctest/…); walk up to the build dir.
        while !directory.isEmpty {
            let candidate = directory + "/meshgate"
            if access(String(candidate), X_OK) == 0 { return String(candidate) }
            directory = directory[..<(directory.lastIndex(of: "/") ?? directory.startIndex)]
        }
        throw TestSupportError("meshgate binary not found near \(exe); run `swift build` first")
    }

    /// Removes a directory made by `makeTempDirectory` and everything in it (best effort).
    public static func removeDirectory(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// A fresh private directory under $TMPDIR or /tmp.
    public static func makeTempDirectory() throws -> String {
        let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array((base + "/meshgate-it-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw TestSupportError.system("mkdtemp") }
        return String(cString: made)
    }
}
