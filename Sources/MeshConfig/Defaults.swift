/// Every default of SPEC §3 in one place. Decoders use these when a key is absent; `render` shows the result, so
/// `GET /config` always tells the whole truth.
enum Defaults {
    static let adminAddress = HostPort(host: "127.0.0.1", port: 9901)

    /// The largest duration any `_ms` key accepts (2^31−1 ms, about 24.8 days; `_s` keys: the same in seconds).
    /// Larger values would make `now + duration` overflow `Int64` arithmetic, and no timeout, interval or
    /// back-off of a proxy needs more.
    static let maxDurationMs = 2_147_483_647

    // Routes
    static let timeoutMs = 3000
    /// No per-try timeout: each try may use what is left of `timeout_ms`.
    static let perTryTimeoutMs: Int? = nil
    static let retries = 2
    static let retryOn: [RetryOn] = [.connectFailure, .reset, .timeout, .gatewayError]
    static let retryStatuses: [Int] = []
    static let backoffBaseMs = 25
    static let backoffMaxMs = 250
    static let retry = RetryConfig(
        retries: retries, on: retryOn, statuses: retryStatuses, backoffBaseMs: backoffBaseMs,
        backoffMaxMs: backoffMaxMs)
    /// A route's `jwt.required` when the key is absent: deny by default.
    static let jwtRequired = true
    static let fallbackOn: [FallbackOn] = FallbackOn.allCases
    static let fallbackBody = ""

    // Rate limits (SPEC §11)
    static let rateLimitOnError = RateLimitOnError.allow
    static let rateLimitStoreTimeoutMs = 50
    static let rateLimitMaxKeys = 100_000

    // Upstreams
    static let balance = BalanceConfig.roundRobin
    static let connectTimeoutMs = 1000
    static let dnsRefreshMs = 30000
    static let pool = PoolConfig(maxConnections: 256, maxIdle: 256, idleTimeoutMs: 60000)
    static let circuitBreaker = CircuitBreakerConfig(consecutiveFailures: 5, openMs: 30000, halfOpenRequests: 1)
    static let healthCheckPath = "/healthz"
    static let healthCheck = HealthCheckConfig(
        path: healthCheckPath, intervalMs: 5000, timeoutMs: 1000, unhealthyThreshold: 3, healthyThreshold: 2)

    // JWT providers
    static let jwksRefreshMs = 300_000
    static let algorithms = ["ES256", "RS256", "EdDSA"]
    static let leewaySeconds = 30
    static let tokenSources: [TokenSource] = [.bearer]
    static let maxTokenBytes = 8192
    static let forwardToken = true

    // Process-wide
    static let limits = LimitsConfig(
        maxHeaderBytes: 65536, maxBodyBytes: 10_485_760, maxConnections: 10000, headerTimeoutMs: 10000,
        idleTimeoutMs: 60000, drainGraceMs: 0, drainTimeoutMs: 15000)
    static let tracing = TracingConfig(serviceName: "meshgate", sampleRatio: 1.0, otlpEndpoint: nil)
    static let logging = LoggingConfig(level: .info, accessLog: true)
    static let watchConfig = true
    static let appStartupTimeoutMs = 30000
    static let tlsMinVersion = "1.2"
    static let tlsALPN = ["http/1.1"]
    static let tlsHandshakeTimeoutMs = 10_000
}

/// Every algorithm SPEC §3 lists; anything else (notably `none`) is refused.
enum KnownAlgorithms {
    static let all = [
        "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
        "ES384", "EdDSA",
    ]
    static func isHMAC(_ alg: String) -> Bool { alg.hasPrefix("HS") }
}
