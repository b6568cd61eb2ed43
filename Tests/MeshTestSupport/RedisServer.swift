import Glibc

/// A real `redis-server` on a free loopback port, without persistence.
public final class RedisServer {
    public let port: UInt16
    public private(set) var process: ChildProcess

    public static var available: Bool { access("/usr/bin/redis-server", X_OK) == 0 }

    public init() throws {
        port = try TestSocket.freePort()
        process = try Self.spawn(port: port)
    }

    private static func spawn(port: UInt16) throws -> ChildProcess {
        let child = try ChildProcess(
            path: "/usr/bin/redis-server",
            arguments: ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            outputPrefix: "/tmp/meshgate-redis-\(port)-\(getpid())")
        // Ready when it accepts a connection (bounded poll, no sleep-and-hope).
        let deadline = TestSocket.nowMs() + 10_000
        while TestSocket.nowMs() < deadline {
            if let fd = try? TestSocket.connect(port: port, timeoutMs: 500) {
                close(fd)
                return child
            }
            if child.poll() { throw TestSupportError("redis-server exited: \(child.stderr)") }
            usleep(5000)
        }
        child.terminate()
        throw TestSupportError("redis-server did not start on \(port)")
    }

    public func kill() { process.terminate(signal: SIGKILL) }
    public func stop() { Glibc.kill(process.pid, SIGSTOP) }
    public func resume() { Glibc.kill(process.pid, SIGCONT) }

    /// Starts a new server on the same port (after `kill`).
    public func restart() throws { process = try Self.spawn(port: port) }

    deinit {
        Glibc.kill(process.pid, SIGCONT)
        process.terminate(signal: SIGKILL)
    }
}
