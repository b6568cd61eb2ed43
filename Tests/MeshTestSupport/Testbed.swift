import Glibc

/// A test world with free-form configuration: named `TestUpstream`s, a gateway started from a config the test
/// builds from their ports, an optional admin listener, and cleanup (`stop()` or deinit). Unlike the
/// integration `Rig` it lets a test give whole upstream objects (several endpoints, pools, breakers), JWT
/// providers, environment variables and a stuck stdout.
public final class Testbed {
    /// What a test's config builder gets: the ports to use.
    public struct Ports: Sendable {
        /// The gateway listener's port.
        public let listener: UInt16
        /// The admin listener's port (free; the config decides whether to use it).
        public let admin: UInt16
        /// Each started upstream's port by name.
        public let upstreams: [String: UInt16]

        /// The port of upstream `name` (traps when unknown: a test bug).
        public subscript(_ name: String) -> UInt16 { upstreams[name]! }
    }

    /// Started upstreams by name.
    public let upstreams: [String: TestUpstream]
    /// The gateway under test.
    public let gateway: GatewayProcess
    /// The ports in use.
    public let ports: Ports
    private var stopped: Termination?

    /// Starts `behaviors` as upstreams, then a gateway with `workers` worker threads and the config
    /// `config(ports)` returns.
    public init(
        upstreams behaviors: [String: UpstreamBehavior], workers: Int = 1, environment: [String: String] = [:],
        stdoutToUnreadPipe: Bool = false, config: (Ports) throws -> String
    ) throws {
        var started: [String: TestUpstream] = [:]
        do {
            for (name, behavior) in behaviors { started[name] = try TestUpstream(behavior) }
            ports = Ports(
                listener: try TestSocket.freePort(), admin: try TestSocket.freePort(),
                upstreams: started.mapValues(\.port))
            gateway = try GatewayProcess(
                configJSON: try config(ports), port: ports.listener, workers: workers, environment: environment,
                stdoutToUnreadPipe: stdoutToUnreadPipe)
        } catch {
            for upstream in started.values { upstream.shutdown() }
            throw error
        }
        upstreams = started
    }

    deinit { stop() }

    /// The upstream `name` (traps when unknown: a test bug).
    public subscript(_ name: String) -> TestUpstream { upstreams[name]! }

    /// A new client connection to the gateway listener.
    public func client(timeoutMs: Int = TestSocket.defaultTimeoutMs) throws -> RawClient {
        try RawClient(port: ports.listener, timeoutMs: timeoutMs)
    }

    /// One request `method path` with extra header lines (each ending in CRLF) on a fresh connection.
    public func request(
        _ method: String = "GET", _ path: String, headers: String = "", body: String? = nil
    ) throws -> HTTPResponse {
        let framing = body.map { "Content-Length: \($0.utf8.count)\r\n" } ?? ""
        return try client().request(
            "\(method) \(path) HTTP/1.1\r\nHost: test.local\r\n\(headers)\(framing)\r\n\(body ?? "")", method: method)
    }

    /// `GET path` on the admin listener. The gateway is known ready when its main listener accepts; the admin
    /// listener may bind a moment later, so a refused connection is retried for up to 5 s.
    public func admin(_ path: String) throws -> HTTPResponse {
        let deadline = TestSocket.nowMs() + 5000
        while true {
            do {
                let client = try RawClient(port: ports.admin)
                return try client.request("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(ports.admin)\r\n\r\n")
            } catch let error as TestSupportError where error.description.contains("errno \(ECONNREFUSED)") {
                if TestSocket.nowMs() > deadline || !gateway.isRunning { throw error }
                usleep(10_000)
            }
        }
    }

    /// Polls `GET path` on the admin listener (every 20 ms, up to `timeoutMs`) until `done` accepts the
    /// response; returns the last response (the caller asserts on it).
    public func pollAdmin(
        _ path: String, timeoutMs: Int = 5000, until done: (HTTPResponse) -> Bool
    ) throws -> HTTPResponse {
        let deadline = TestSocket.nowMs() + timeoutMs
        while true {
            let response = try admin(path)
            if done(response) || TestSocket.nowMs() > deadline { return response }
            usleep(20_000)
        }
    }

    /// Stops the gateway (SIGTERM) and every upstream; returns how the gateway ended (idempotent).
    @discardableResult
    public func stop() -> Termination {
        if let stopped { return stopped }
        let termination = gateway.stop()
        for upstream in upstreams.values { upstream.shutdown() }
        stopped = termination
        return termination
    }
}
