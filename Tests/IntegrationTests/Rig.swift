import Glibc
import MeshTestSupport
import Testing

/// One test's world: its upstreams (each a `TestUpstream` on a free port), a gateway process routing to them,
/// and cleanup. `stop()` (or deinit) ends the gateway with SIGTERM and shuts every upstream down.
final class Rig {
    /// Upstreams by config name.
    let upstreams: [String: TestUpstream]
    /// The gateway under test.
    let gateway: GatewayProcess
    private var stopped: Termination?

    /// Starts `upstreams`, then a gateway with `routes`; `fixedPorts` adds upstream names pointing at ports
    /// that have no `TestUpstream` (e.g. a refused port).
    init(
        upstreams behaviors: [String: UpstreamBehavior], fixedPorts: [String: UInt16] = [:], routes: [String],
        limits: String = "{}", upstreamExtra: String = ""
    ) throws {
        var started: [String: TestUpstream] = [:]
        do {
            for (name, behavior) in behaviors { started[name] = try TestUpstream(behavior) }
            var ports = fixedPorts
            for (name, upstream) in started { ports[name] = upstream.port }
            let port = try TestSocket.freePort()
            let config = TestConfig.json(
                port: port, routes: routes, upstreams: ports, limits: limits, upstreamExtra: upstreamExtra)
            gateway = try GatewayProcess(configJSON: config, port: port)
        } catch {
            for upstream in started.values { upstream.shutdown() }
            throw error
        }
        upstreams = started
    }

    /// One upstream named "app" behind a catch-all route.
    convenience init(_ behavior: UpstreamBehavior, route extra: String = "", limits: String = "{}") throws {
        try self.init(upstreams: ["app": behavior], routes: [TestConfig.route("/", to: "app", extra)], limits: limits)
    }

    deinit { _ = stop() }

    /// The upstream named "app".
    var upstream: TestUpstream { upstreams["app"]! }

    /// The gateway's listener port.
    var port: UInt16 { gateway.port }

    /// A new client connection to the gateway.
    func client(timeoutMs: Int = TestSocket.defaultTimeoutMs) throws -> RawClient {
        try RawClient(port: port, timeoutMs: timeoutMs)
    }

    /// Sends one GET on a fresh connection and returns the response.
    func get(_ path: String, headers: String = "") throws -> HTTPResponse {
        try client().request("GET \(path) HTTP/1.1\r\nHost: test.local\r\n\(headers)\r\n")
    }

    /// Stops the gateway (SIGTERM) and the upstreams; returns how the gateway ended (idempotent).
    @discardableResult
    func stop() -> Termination {
        if let stopped { return stopped }
        let termination = gateway.stop()
        for upstream in upstreams.values { upstream.shutdown() }
        stopped = termination
        return termination
    }

    /// Asserts the gateway is still running, then that SIGTERM ends it with exit 0 (SPEC §2).
    func expectCleanStop(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(gateway.isRunning, "gateway died: \(gateway.stdout.suffix(2000))", sourceLocation: sourceLocation)
        let termination = stop()
        #expect(termination == .exited(0), "gateway ended with \(termination)", sourceLocation: sourceLocation)
    }
}

/// Asserts `response` is a gateway error: `status`, a JSON body whose `error` is `code` and with a non-empty
/// `request_id` (SPEC §4 error table).
func expectGatewayError(
    _ response: HTTPResponse, _ status: Int, _ code: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(response.status == status, "\(response.head.text)\(response.bodyText)", sourceLocation: sourceLocation)
    #expect(response.jsonString("error") == code, "body: \(response.bodyText)", sourceLocation: sourceLocation)
    #expect(response.jsonString("request_id")?.isEmpty == false, "body: \(response.bodyText)",
            sourceLocation: sourceLocation)
}
