import Testing

@testable import MeshConfig

/// A document that sets only what is required, so everything else comes from `Defaults.swift`.
private let sparse = """
    {"version": 1,
     "listeners": [{"name": "edge", "address": "127.0.0.1:8080", "routes": [
        {"match": {"path": "/"}, "upstream": "app"},
        {"match": {"path": "/r"}, "upstream": "app", "retry": {"retries": 0}},
        {"match": {"path": "/s"}, "upstream": "app", "retry": {"retries": 4}},
        {"match": {"path": "/f"}, "upstream": "app", "fallback": {"status": 503}}]}],
     "upstreams": {"app": {"endpoints": ["127.0.0.1:3000"], "health_check": {}}},
     "jwt_providers": {"p": {"issuer": "i", "jwks": {"url": "http://127.0.0.1:1/jwks"}}}}
    """

struct DefaultCase: Sendable, CustomStringConvertible {
    let name: String
    let actual: @Sendable (GatewayConfig) -> String
    let expected: String
    init(_ name: String, _ expected: String, _ actual: @escaping @Sendable (GatewayConfig) -> String) {
        self.name = name
        self.expected = expected
        self.actual = actual
    }
    var description: String { name }
}

private func route(_ c: GatewayConfig, _ i: Int) -> RouteConfig { c.listeners[0].routes[i] }
private func app(_ c: GatewayConfig) -> UpstreamConfig { c.upstreams["app"]! }
private func p(_ c: GatewayConfig) -> JWTProviderConfig { c.jwtProviders["p"]! }

let defaultCases: [DefaultCase] = [
    .init("route name", "edge#0") { route($0, 0).name },
    .init("second route name", "edge#1") { route($0, 1).name },
    .init("timeout_ms", "3000") { "\(route($0, 0).timeoutMs)" },
    .init("per_try_timeout_ms", "nil") { route($0, 0).perTryTimeoutMs.map { "\($0)" } ?? "nil" },
    .init("retries", "2") { "\(route($0, 0).retry.retries)" },
    .init("retry on", "connect-failure,reset,timeout,gateway-error") {
        route($0, 0).retry.on.map(\.rawValue).joined(separator: ",")
    },
    .init("retry statuses", "[]") { "\(route($0, 0).retry.statuses)" },
    .init("backoff", "25/250") { "\(route($0, 0).retry.backoffBaseMs)/\(route($0, 0).retry.backoffMaxMs)" },
    .init("retries 0 is off", "0") { "\(route($0, 1).retry.retries)" },
    .init("retries 0 keeps other defaults", "4 25/250") {
        let r = route($0, 1).retry
        return "\(r.on.count) \(r.backoffBaseMs)/\(r.backoffMaxMs)"
    },
    .init("partial retry keeps on", "4 connect-failure") {
        let r = route($0, 2).retry
        return "\(r.retries) \(r.on[0].rawValue)"
    },
    .init("no fallback", "nil") { route($0, 0).fallback.map { "\($0.status)" } ?? "nil" },
    .init("fallback defaults", "503 [] '' circuit-open,timeout,connect-failure,5xx") {
        let f = route($0, 3).fallback!
        return "\(f.status) \(f.headers.map(\.name)) '\(f.body)' \(f.on.map(\.rawValue).joined(separator: ","))"
    },
    .init("public", "false") { "\(route($0, 0).isPublic)" },
    .init("jwt without listener rule", "nil") { route($0, 0).jwt.map(\.provider) ?? "nil" },
    .init("header edits", "0 0") {
        "\(route($0, 0).requestHeaders.set.count) \(route($0, 0).responseHeaders.remove.count)"
    },
    .init("balance", "round_robin") { app($0).balance.rawValue },
    .init("connect_timeout_ms", "1000") { "\(app($0).connectTimeoutMs)" },
    .init("dns_refresh_ms", "30000") { "\(app($0).dnsRefreshMs)" },
    .init("pool", "256/256/60000") {
        "\(app($0).pool.maxConnections)/\(app($0).pool.maxIdle)/\(app($0).pool.idleTimeoutMs)"
    },
    .init("breaker", "5/30000/1") {
        let b = app($0).circuitBreaker
        return "\(b.consecutiveFailures)/\(b.openMs)/\(b.halfOpenRequests)"
    },
    .init("health check", "/healthz 5000 1000 3 2") {
        let h = app($0).healthCheck!
        return "\(h.path) \(h.intervalMs) \(h.timeoutMs) \(h.unhealthyThreshold) \(h.healthyThreshold)"
    },
    .init("algorithms", "ES256,RS256,EdDSA") { p($0).algorithms.joined(separator: ",") },
    .init("leeway_s", "30") { "\(p($0).leewaySeconds)" },
    .init("max_token_bytes", "8192") { "\(p($0).maxTokenBytes)" },
    .init("forward_token", "true") { "\(p($0).forwardToken)" },
    .init("from", "[bearer]") { "\(p($0).from)".replacingOccurrences(of: "MeshConfig.TokenSource.", with: "") },
    .init("audiences", "[]") { "\(p($0).audiences)" },
    .init("jwks refresh", "300000") {
        guard case .url(_, let refresh, _) = p($0).jwks[0] else { return "not a url" }
        return "\(refresh)"
    },
    .init("admin", "127.0.0.1:9901") { $0.admin.address?.description ?? "nil" },
    .init("limits", "65536 10485760 10000 10000 60000 0 15000") {
        let l = $0.limits
        return
            "\(l.maxHeaderBytes) \(l.maxBodyBytes) \(l.maxConnections) \(l.headerTimeoutMs) \(l.idleTimeoutMs) \(l.drainGraceMs) \(l.drainTimeoutMs)"
    },
    .init("tracing", "meshgate 1.0 nil") {
        "\($0.tracing.serviceName) \($0.tracing.sampleRatio) \($0.tracing.otlpEndpoint ?? "nil")"
    },
    .init("logging", "info true") { "\($0.logging.level.rawValue) \($0.logging.accessLog)" },
    .init("watch_config", "true") { "\($0.watchConfig)" },
    .init("app", "nil") { $0.app.map(\.healthURL) ?? "nil" },
]

@Suite struct DefaultsTests {
    @Test(arguments: defaultCases)
    func defaultValue(_ testCase: DefaultCase) throws {
        let config = try loadValid(sparse)
        #expect(testCase.actual(config) == testCase.expected)
    }

    @Test func adminNullDisablesAdmin() throws {
        let config = try loadValid(document(extra: #""admin": null"#))
        #expect(config.admin.address == nil)
        let nested = try loadValid(document(extra: #""admin": {"address": null}"#))
        #expect(nested.admin.address == nil)
    }

    @Test func appStartupTimeoutDefault() throws {
        let config = try loadValid(document(extra: #""app": {"health_url": "http://127.0.0.1:8081/healthz"}"#))
        #expect(config.app?.startupTimeoutMs == 30000)
        #expect(config.app?.healthURL == "http://127.0.0.1:8081/healthz")
    }

    @Test func maxIdleFollowsMaxConnectionsUnlessSet() throws {
        let followed = try loadValid(document(upstreams: #"{"app": {"endpoints": ["127.0.0.1:3000"], "pool": {"max_connections": 64}}}"#))
        #expect(followed.upstreams["app"]!.pool.maxIdle == 64)
        let set = try loadValid(document(upstreams: #"{"app": {"endpoints": ["127.0.0.1:3000"], "pool": {"max_connections": 64, "max_idle": 8}}}"#))
        #expect(set.upstreams["app"]!.pool.maxIdle == 8)
    }
}
