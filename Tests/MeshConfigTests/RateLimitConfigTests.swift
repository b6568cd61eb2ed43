import MeshJSON
import Testing

@testable import MeshConfig

private func limited(_ limit: String, jwt: Bool = true) -> String {
    let rule = jwt ? #""jwt": {"provider": "local"}, "# : #""public": true, "#
    return #"{"match": {"path": "/"}, "upstream": "app", \#(rule)"rate_limit": \#(limit)}"#
}
private let store = #""rate_limits": {"store": {"redis": "127.0.0.1:6379"}}"#
private let r0 = "listeners[0].routes[0]"

/// SPEC §11 configuration: `rate_limits`, `rate_limit` on routes and listeners, `max_in_flight`.
let rateLimitCases: [ValidationCase] = [
    .init(
        name: "unknown rate_limit key", document: document(route: limited(#"{"requests_per_second": 5, "bust": 3}"#)),
        path: "\(r0).rate_limit.bust", message: "unknown key \"bust\" (did you mean \"burst\"?)"),
    .init(
        name: "rate missing", document: document(route: limited(#"{"key": "route"}"#)),
        path: "\(r0).rate_limit", message: "missing required key \"requests_per_second\""),
    .init(
        name: "claim key on a public route",
        document: document(route: limited(#"{"key": "claim:sub", "requests_per_second": 5}"#, jwt: false)),
        path: "\(r0).rate_limit.key", message: "needs a verified token"),
    .init(
        name: "unknown key kind", document: document(route: limited(#"{"key": "cliet_ip", "requests_per_second": 5}"#)),
        path: "\(r0).rate_limit.key", message: "(did you mean \"client_ip\"?)"),
    .init(
        name: "bad header name", document: document(route: limited(#"{"key": "header:x y", "requests_per_second": 5}"#)),
        path: "\(r0).rate_limit.key", message: "is not a valid header name"),
    .init(
        name: "zero rate", document: document(route: limited(#"{"requests_per_second": 0}"#)),
        path: "\(r0).rate_limit.requests_per_second", message: "out of range"),
    .init(
        name: "zero burst", document: document(route: limited(#"{"requests_per_second": 5, "burst": 0}"#)),
        path: "\(r0).rate_limit.burst", message: "out of range: must be between 1 and"),
    .init(
        name: "fractional burst", document: document(route: limited(#"{"requests_per_second": 5, "burst": 1.5}"#)),
        path: "\(r0).rate_limit.burst", message: "expected a positive integer"),
    .init(
        name: "max_keys too large",
        document: document(route: limited(#"{"requests_per_second": 5, "max_keys": 100000000}"#)),
        path: "\(r0).rate_limit.max_keys", message: "must be between 1 and 10000000"),
    .init(
        name: "unknown scope", document: document(route: limited(#"{"requests_per_second": 5, "scope": "globl"}"#)),
        path: "\(r0).rate_limit.scope", message: "(did you mean \"global\"?)"),
    .init(
        name: "global without a store",
        document: document(route: limited(#"{"requests_per_second": 5, "scope": "global"}"#)),
        path: "\(r0).rate_limit.scope", message: "needs a shared store"),
    .init(
        name: "store without redis", document: document(extra: #""rate_limits": {"store": {"timeout_ms": 5}}"#),
        path: "rate_limits.store", message: "missing required key \"redis\""),
    .init(
        name: "bad on_error",
        document: document(extra: #""rate_limits": {"store": {"redis": "127.0.0.1:6379", "on_error": "alow"}}"#),
        path: "rate_limits.store.on_error", message: "(did you mean \"allow\"?)"),
    .init(
        name: "unknown rate_limits key", document: document(extra: #""rate_limits": {"stor": {}}"#),
        path: "rate_limits.stor", message: "unknown key \"stor\" (did you mean \"store\"?)"),
    .init(
        name: "listener claim key with a public route",
        document: document(
            route: #"{"name": "open", "match": {"path": "/"}, "upstream": "app", "public": true}"#,
            listenerExtra: #""jwt": {"provider": "local"}, "rate_limit": {"key": "claim:sub", "requests_per_second": 1},"#
        ),
        path: "listeners[0].rate_limit.key", message: "these routes have no JWT: \"open\""),
    .init(
        name: "max_in_flight zero",
        document: document(upstreams: #"{"app": {"endpoints": ["127.0.0.1:3000"], "max_in_flight": 0}}"#),
        path: "upstreams.app.max_in_flight", message: "out of range"),
    .init(
        name: "max_in_flight word",
        document: document(upstreams: #"{"app": {"endpoints": ["127.0.0.1:3000"], "max_in_flight": "adaptiv"}}"#),
        path: "upstreams.app.max_in_flight", message: "(did you mean \"adaptive\"?)"),
]

@Suite struct RateLimitConfigTests {
    @Test(arguments: rateLimitCases)
    func reportsOneErrorAtPath(_ testCase: ValidationCase) {
        let errors = loadErrors(testCase.document)
        #expect(errors.count == 1, "\(errors)")
        guard let error = errors.first else { return }
        #expect(error.path == testCase.path)
        #expect(error.message.contains(testCase.message), "message was: \(error.message)")
        #expect(error.line != nil && error.column != nil, "every validation error has a position")
    }

    @Test func defaultsAndEveryKey() throws {
        let config = try loadValid(document(route: limited(#"{"requests_per_second": 2.5}"#)))
        let limit = try #require(config.listeners[0].routes[0].rateLimit)
        #expect(limit == RateLimitConfig(key: .clientIP, requestsPerSecond: 2.5, burst: 3, scope: .process, maxKeys: 100_000))
        #expect(config.rateLimits.store == nil)
        let full = try loadValid(
            document(
                route: limited(
                    #"{"key": "header:X-Api-Key", "requests_per_second": 100, "burst": 200, "scope": "global", "max_keys": 5000}"#
                ),
                upstreams: #"{"app": {"endpoints": ["127.0.0.1:3000"], "max_in_flight": "adaptive"}}"#,
                extra: #""rate_limits": {"store": {"redis": "10.0.0.5:6380", "timeout_ms": 20, "on_error": "deny"}}"#))
        #expect(
            full.listeners[0].routes[0].rateLimit
                == RateLimitConfig(
                    key: .header("x-api-key"), requestsPerSecond: 100, burst: 200, scope: .global, maxKeys: 5000))
        #expect(
            full.rateLimits.store
                == RateLimitStoreConfig(redis: HostPort(host: "10.0.0.5", port: 6380), timeoutMs: 20, onError: .deny))
        #expect(full.upstreams["app"]?.maxInFlight == .adaptive)
        let fixed = try loadValid(
            document(upstreams: #"{"app": {"endpoints": ["127.0.0.1:3000"], "max_in_flight": 64}}"#))
        #expect(fixed.upstreams["app"]?.maxInFlight == .fixed(64))
        #expect(fixed.upstreams["app"]?.maxInFlight != nil)
        #expect(try loadValid(document()).upstreams["app"]?.maxInFlight == nil)
    }

    @Test func aClaimKeyIsFineWhereATokenIsVerifiedAndOnTheListener() throws {
        let config = try loadValid(
            document(
                route: limited(#"{"key": "claim:sub", "requests_per_second": 1}"#),
                listenerExtra: #""rate_limit": {"key": "route", "requests_per_second": 1000, "burst": 2000},"#))
        #expect(config.listeners[0].routes[0].rateLimit?.key == .claim("sub"))
        #expect(config.listeners[0].rateLimit?.key == .route)
        let inherited = try loadValid(
            document(
                route: #"{"match": {"path": "/"}, "upstream": "app", "rate_limit": {"key": "claim:sub", "requests_per_second": 1}}"#,
                listenerExtra: #""jwt": {"provider": "local"}, "rate_limit": {"key": "claim:tenant", "requests_per_second": 9},"#))
        #expect(inherited.listeners[0].rateLimit?.key == .claim("tenant"))
    }

    @Test func renderedConfigShowsTheNewKeysAndLoadsAgain() throws {
        let text = document(
            route: limited(#"{"key": "claim:sub", "requests_per_second": 0.5, "burst": 4, "scope": "global"}"#),
            listenerExtra: #""rate_limit": {"key": "client_ip", "requests_per_second": 50},"#,
            upstreams: #"{"app": {"endpoints": ["127.0.0.1:3000"], "max_in_flight": 32}}"#, extra: store)
        let config = try loadValid(text)
        let rendered = ConfigLoader.render(config)
        let root = try JSONReader.parse(rendered)
        let route = root["listeners"]?.arrayValue?[0]["routes"]?.arrayValue?[0]["rate_limit"]
        #expect(route?["key"]?.stringValue == "claim:sub")
        #expect(route?["requests_per_second"]?.doubleValue == 0.5)
        #expect(route?["max_keys"]?.int64Value == 100_000)
        #expect(root["listeners"]?.arrayValue?[0]["rate_limit"]?["burst"]?.int64Value == 50)
        #expect(root["listeners"]?.arrayValue?[0]["rate_limit"]?["requests_per_second"]?.int64Value == 50)
        #expect(root["upstreams"]?["app"]?["max_in_flight"]?.int64Value == 32)
        #expect(root["rate_limits"]?["store"]?["on_error"]?.stringValue == "allow")
        #expect(root["rate_limits"]?["store"]?["timeout_ms"]?.int64Value == 50)
        #expect(ConfigLoader.render(try loadValid(rendered)) == rendered)
        let plain = try JSONReader.parse(ConfigLoader.render(try loadValid(document())))
        #expect(plain["rate_limits"]?["store"]?.isNull == true)
    }
}
