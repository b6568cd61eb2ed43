import Glibc

/// Runs an independent client tool (`curl`, `openssl`) to completion, bounded in time, for tests that check
/// meshgate against implementations other than its own.
public enum Tool {
    public struct Result: Sendable {
        public let termination: Termination
        public let stdout: String
        public let stderr: String
        /// The exit code (128 + signal when killed).
        public var exitCode: Int32 {
            switch termination {
            case .exited(let code): code
            case .signaled(let signal): 128 + signal
            }
        }
    }

    /// Runs `path arguments…` with `input` on stdin (else /dev/null), killed after `timeoutMs`.
    public static func run(
        _ path: String, _ arguments: [String], input: String? = nil, timeoutMs: Int = 20_000
    ) throws -> Result {
        let directory = try GatewayProcess.makeTempDirectory()
        defer { GatewayProcess.removeDirectory(directory) }
        var stdin = "/dev/null"
        if let input {
            stdin = directory + "/stdin"
            try ChildProcess.writeFile(stdin, input)
        }
        let child = try ChildProcess(
            path: path, arguments: arguments, outputPrefix: directory + "/tool", stdinPath: stdin)
        let termination = child.wait(timeoutMs: timeoutMs) ?? child.terminate(signal: SIGKILL)
        return Result(termination: termination, stdout: child.stdout, stderr: child.stderr)
    }

    /// `curl` with `arguments` (add `-sS`; a non-zero exit is curl's error code).
    public static func curl(_ arguments: [String], timeoutMs: Int = 20_000) throws -> Result {
        try run("/usr/bin/curl", ["-sS", "--max-time", "10"] + arguments, timeoutMs: timeoutMs)
    }

    /// `openssl arguments…`, with `input` on stdin.
    public static func openssl(_ arguments: [String], input: String? = nil, timeoutMs: Int = 20_000) throws -> Result {
        try run("/usr/bin/openssl", arguments, input: input, timeoutMs: timeoutMs)
    }
}
