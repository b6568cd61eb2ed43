/// The validated, immutable configuration (SPEC §3). Built by `ConfigLoader`
/// from `routes.json`; shared by every worker as one reference, swapped whole on
/// reload. Durations are milliseconds (`Int`), as in the file, so the hot path
/// compares plain integers against the loop's coarse clock.
public final class GatewayConfig: Sendable {
    public let version: Int
    public let admin: AdminConfig
    public let listeners: [ListenerConfig]
    /// Upstreams by name; `upstreamOrder` keeps the file's order for stable output.
    public let upstreams: [String: UpstreamConfig]
    public let upstreamOrder: [String]
    public let jwtProviders: [String: JWTProviderConfig]
    public let limits: LimitsConfig
    public let tracing: TracingConfig
    public let logging: LoggingConfig
    public let watchConfig: Bool
    public let app: AppConfig?

    public init(
        version: Int, admin: AdminConfig, listeners: [ListenerConfig], upstreams: [String: UpstreamConfig],
        upstreamOrder: [String], jwtProviders: [String: JWTProviderConfig], limits: LimitsConfig,
        tracing: TracingConfig, logging: LoggingConfig, watchConfig: Bool, app: AppConfig?
    ) {
        self.version = version
        self.admin = admin
        self.listeners = listeners
        self.upstreams = upstreams
        self.upstreamOrder = upstreamOrder
        self.jwtProviders = jwtProviders
        self.limits = limits
        self.tracing = tracing
        self.logging = logging
        self.watchConfig = watchConfig
        self.app = app
    }
}

/// `host:port` as written in the file. `host` is an IPv4/IPv6 literal or a DNS
/// name (IPv6 written as `[::1]:80`, stored without brackets).
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: UInt16
    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// `admin`: where the admin listener (metrics, health, config) binds.
public struct AdminConfig: Sendable {
    /// nil when `"admin": null` disables the admin listener.
    public let address: HostPort?
    public init(address: HostPort?) { self.address = address }
}

/// One entry of `listeners`: a bound address with its ordered routes.
public struct ListenerConfig: Sendable {
    public let name: String
    public let address: HostPort
    /// The listener-wide JWT rule; each route inherits it unless it has its own or is public.
    public let jwt: JWTRuleConfig?
    public let routes: [RouteConfig]
    public init(name: String, address: HostPort, jwt: JWTRuleConfig?, routes: [RouteConfig]) {
        self.name = name
        self.address = address
        self.jwt = jwt
        self.routes = routes
    }
}

/// `match.path` / `path_prefix` / `path_template`: exactly one is given.
public enum PathMatch: Sendable, Equatable {
    case exact(String)
    /// Segment-aware: `/api` matches `/api` and `/api/x`, not `/apix`. Stored without a trailing `/`
    /// unless it is `/` itself.
    case prefix(String)
    /// `/users/{id}/followers`: `segments[i]` is nil for a `{param}` segment.
    case template(segments: [String?], names: [String])
}

/// `match.host`: exact (lowercased) or `*.example.com` (stored as the suffix `.example.com`).
public enum HostMatch: Sendable, Equatable {
    case exact(String)
    case wildcardSuffix(String)
}

/// `match`: what a request must look like for its route to apply (all given parts must hold).
public struct MatchConfig: Sendable {
    public let path: PathMatch
    /// Upper-case method names; empty means any method.
    public let methods: [String]
    public let host: HostMatch?
    /// Header name (lowercased) → exact value.
    public let headers: [(name: String, value: String)]
    public init(path: PathMatch, methods: [String], host: HostMatch?, headers: [(name: String, value: String)]) {
        self.path = path
        self.methods = methods
        self.host = host
        self.headers = headers
    }
}

/// `rewrite`: path and Host changes applied before the request goes upstream (each nil means unchanged).
public struct RewriteConfig: Sendable {
    public let stripPrefix: String?
    public let addPrefix: String?
    public let host: String?
    public init(stripPrefix: String?, addPrefix: String?, host: String?) {
        self.stripPrefix = stripPrefix
        self.addPrefix = addPrefix
        self.host = host
    }
}

/// `request_headers` / `response_headers`: names lowercased, `set` in file order.
public struct HeaderEditsConfig: Sendable {
    public let set: [(name: String, value: String)]
    public let remove: [String]
    public init(set: [(name: String, value: String)], remove: [String]) {
        self.set = set
        self.remove = remove
    }
    public static let none = HeaderEditsConfig(set: [], remove: [])
}

/// A listener's or route's `jwt`: which provider checks the token and what a valid token must carry.
public struct JWTRuleConfig: Sendable {
    public let provider: String
    public let required: Bool
    /// claim name → header name (lowercased).
    public let claimsToHeaders: [(claim: String, header: String)]
    public let requireClaims: [(claim: String, value: String)]
    public init(
        provider: String, required: Bool, claimsToHeaders: [(claim: String, header: String)],
        requireClaims: [(claim: String, value: String)]
    ) {
        self.provider = provider
        self.required = required
        self.claimsToHeaders = claimsToHeaders
        self.requireClaims = requireClaims
    }
}

/// `retry.on` values (SPEC §3): which failures are retried.
public enum RetryOn: String, Sendable, CaseIterable {
    case connectFailure = "connect-failure"
    case reset
    case timeout
    case gatewayError = "gateway-error"
    case fiveXX = "5xx"
}

/// `retry` with defaults applied; `retries == 0` means retries are off.
public struct RetryConfig: Sendable {
    public let retries: Int
    public let on: [RetryOn]
    public let statuses: [Int]
    public let backoffBaseMs: Int
    public let backoffMaxMs: Int
    public init(retries: Int, on: [RetryOn], statuses: [Int], backoffBaseMs: Int, backoffMaxMs: Int) {
        self.retries = retries
        self.on = on
        self.statuses = statuses
        self.backoffBaseMs = backoffBaseMs
        self.backoffMaxMs = backoffMaxMs
    }
}

/// `fallback.on` values: which outcomes are answered with the fallback response.
public enum FallbackOn: String, Sendable, CaseIterable {
    case circuitOpen = "circuit-open"
    case timeout
    case connectFailure = "connect-failure"
    case fiveXX = "5xx"
}

/// `fallback`: the degraded response served instead of an error (headers lowercased, in file order).
public struct FallbackConfig: Sendable {
    public let status: Int
    public let headers: [(name: String, value: String)]
    public let body: String
    public let on: [FallbackOn]
    public init(status: Int, headers: [(name: String, value: String)], body: String, on: [FallbackOn]) {
        self.status = status
        self.headers = headers
        self.body = body
        self.on = on
    }
}

/// One route with every default applied and the JWT rule already inherited.
public struct RouteConfig: Sendable {
    /// Unique within its listener; defaults to `"<listener>#<index>"` when the file gives none.
    public let name: String
    public let match: MatchConfig
    public let upstream: String
    public let rewrite: RewriteConfig?
    /// The effective JWT rule after inheritance: the route's own, else the listener's, nil when public.
    public let jwt: JWTRuleConfig?
    public let isPublic: Bool
    public let timeoutMs: Int
    public let perTryTimeoutMs: Int?
    public let retry: RetryConfig
    public let fallback: FallbackConfig?
    public let requestHeaders: HeaderEditsConfig
    public let responseHeaders: HeaderEditsConfig
    public init(
        name: String, match: MatchConfig, upstream: String, rewrite: RewriteConfig?, jwt: JWTRuleConfig?,
        isPublic: Bool, timeoutMs: Int, perTryTimeoutMs: Int?, retry: RetryConfig, fallback: FallbackConfig?,
        requestHeaders: HeaderEditsConfig, responseHeaders: HeaderEditsConfig
    ) {
        self.name = name
        self.match = match
        self.upstream = upstream
        self.rewrite = rewrite
        self.jwt = jwt
        self.isPublic = isPublic
        self.timeoutMs = timeoutMs
        self.perTryTimeoutMs = perTryTimeoutMs
        self.retry = retry
        self.fallback = fallback
        self.requestHeaders = requestHeaders
        self.responseHeaders = responseHeaders
    }
}

/// `balance`: how an upstream's endpoints are picked.
public enum BalanceConfig: String, Sendable {
    case roundRobin = "round_robin"
    case leastRequest = "least_request"
    case random
}

/// `pool`: connection pool limits per worker per endpoint.
public struct PoolConfig: Sendable, Equatable {
    public let maxConnections: Int
    public let maxIdle: Int
    public let idleTimeoutMs: Int
    public init(maxConnections: Int, maxIdle: Int, idleTimeoutMs: Int) {
        self.maxConnections = maxConnections
        self.maxIdle = maxIdle
        self.idleTimeoutMs = idleTimeoutMs
    }
}

/// `circuit_breaker`: per-endpoint consecutive-failure breaker settings.
public struct CircuitBreakerConfig: Sendable {
    public let consecutiveFailures: Int
    public let openMs: Int
    public let halfOpenRequests: Int
    public init(consecutiveFailures: Int, openMs: Int, halfOpenRequests: Int) {
        self.consecutiveFailures = consecutiveFailures
        self.openMs = openMs
        self.halfOpenRequests = halfOpenRequests
    }
}

/// `health_check`: active `GET path` probes; nil on the upstream means no active checks.
public struct HealthCheckConfig: Sendable {
    public let path: String
    public let intervalMs: Int
    public let timeoutMs: Int
    public let unhealthyThreshold: Int
    public let healthyThreshold: Int
    public init(path: String, intervalMs: Int, timeoutMs: Int, unhealthyThreshold: Int, healthyThreshold: Int) {
        self.path = path
        self.intervalMs = intervalMs
        self.timeoutMs = timeoutMs
        self.unhealthyThreshold = unhealthyThreshold
        self.healthyThreshold = healthyThreshold
    }
}

/// One entry of `upstreams`, with defaults applied; endpoints are unique and non-empty.
public struct UpstreamConfig: Sendable {
    public let name: String
    public let endpoints: [HostPort]
    public let balance: BalanceConfig
    public let connectTimeoutMs: Int
    public let dnsRefreshMs: Int
    public let pool: PoolConfig
    public let circuitBreaker: CircuitBreakerConfig
    public let healthCheck: HealthCheckConfig?
    public init(
        name: String, endpoints: [HostPort], balance: BalanceConfig, connectTimeoutMs: Int, dnsRefreshMs: Int,
        pool: PoolConfig, circuitBreaker: CircuitBreakerConfig, healthCheck: HealthCheckConfig?
    ) {
        self.name = name
        self.endpoints = endpoints
        self.balance = balance
        self.connectTimeoutMs = connectTimeoutMs
        self.dnsRefreshMs = dnsRefreshMs
        self.pool = pool
        self.circuitBreaker = circuitBreaker
        self.healthCheck = healthCheck
    }
}

/// Where a token is read from, in order.
public enum TokenSource: Sendable, Equatable {
    /// `Authorization: Bearer <token>` (the default).
    case bearer
    case header(String)
    case cookie(String)
}

/// One key source of a provider's `jwks`; a provider may have several.
public enum JWKSSource: Sendable {
    case file(path: String)
    case url(String, refreshMs: Int)
    /// The inline JWKS document, re-serialized as JSON text.
    case inline(String)
}

/// One entry of `jwt_providers`; has at least one key source (`jwks` or `secretEnv`).
public struct JWTProviderConfig: Sendable {
    public let name: String
    public let issuer: String
    public let audiences: [String]
    public let jwks: [JWKSSource]
    public let secretEnv: String?
    public let algorithms: [String]
    public let leewaySeconds: Int
    public let from: [TokenSource]
    public let maxTokenBytes: Int
    public let forwardToken: Bool
    public init(
        name: String, issuer: String, audiences: [String], jwks: [JWKSSource], secretEnv: String?,
        algorithms: [String], leewaySeconds: Int, from: [TokenSource], maxTokenBytes: Int, forwardToken: Bool
    ) {
        self.name = name
        self.issuer = issuer
        self.audiences = audiences
        self.jwks = jwks
        self.secretEnv = secretEnv
        self.algorithms = algorithms
        self.leewaySeconds = leewaySeconds
        self.from = from
        self.maxTokenBytes = maxTokenBytes
        self.forwardToken = forwardToken
    }
}

/// `limits`: process-wide size limits and timeouts.
public struct LimitsConfig: Sendable {
    public let maxHeaderBytes: Int
    public let maxBodyBytes: Int
    public let maxConnections: Int
    public let headerTimeoutMs: Int
    public let idleTimeoutMs: Int
    public let drainGraceMs: Int
    public let drainTimeoutMs: Int
    public init(
        maxHeaderBytes: Int, maxBodyBytes: Int, maxConnections: Int, headerTimeoutMs: Int, idleTimeoutMs: Int,
        drainGraceMs: Int, drainTimeoutMs: Int
    ) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
        self.maxConnections = maxConnections
        self.headerTimeoutMs = headerTimeoutMs
        self.idleTimeoutMs = idleTimeoutMs
        self.drainGraceMs = drainGraceMs
        self.drainTimeoutMs = drainTimeoutMs
    }
}

/// `tracing`: trace sampling and optional OTLP/HTTP span export (`otlpEndpoint` nil = off).
public struct TracingConfig: Sendable {
    public let serviceName: String
    public let sampleRatio: Double
    public let otlpEndpoint: String?
    public init(serviceName: String, sampleRatio: Double, otlpEndpoint: String?) {
        self.serviceName = serviceName
        self.sampleRatio = sampleRatio
        self.otlpEndpoint = otlpEndpoint
    }
}

/// `logging.level`; ordered so that `level >= config.level` decides whether a line is written.
public enum LogLevel: String, Sendable, Comparable, CaseIterable {
    case debug, info, warn, error
    private var rank: Int {
        switch self {
        case .debug: 0
        case .info: 1
        case .warn: 2
        case .error: 3
        }
    }
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rank < b.rank }
}

/// `logging`: minimum level and whether one access-log line is written per request.
public struct LoggingConfig: Sendable {
    public let level: LogLevel
    public let accessLog: Bool
    public init(level: LogLevel, accessLog: Bool) {
        self.level = level
        self.accessLog = accessLog
    }
}

/// Sidecar mode: the app's health URL, polled before `/readyz` turns 200.
public struct AppConfig: Sendable {
    public let healthURL: String
    public let startupTimeoutMs: Int
    public init(healthURL: String, startupTimeoutMs: Int) {
        self.healthURL = healthURL
        self.startupTimeoutMs = startupTimeoutMs
    }
}
