// Upstream configuration types (SPEC §3 "Upstreams and the circuit breaker").

/// `balance`: how an upstream's endpoints are picked.
public enum BalanceConfig: String, Sendable {
    case roundRobin = "round_robin"
    case leastRequest = "least_request"
    case random
}

/// `protocol`: how the gateway speaks to an upstream's endpoints (SPEC §10).
public enum UpstreamProtocol: String, Sendable {
    case http1
    /// HTTP/2 with prior knowledge over cleartext TCP.
    case h2c
    /// HTTP/2 over TLS (ALPN h2).
    case h2
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
    /// TLS to the endpoints (SPEC §9); nil: cleartext.
    public let tls: UpstreamTLSConfig?
    /// SPEC §11 `max_in_flight`: nil, no cap beyond the pools'.
    public let maxInFlight: MaxInFlightConfig?
    /// SPEC §10 `protocol` (default `http1`).
    public let upstreamProtocol: UpstreamProtocol
    public init(
        name: String, endpoints: [HostPort], balance: BalanceConfig, connectTimeoutMs: Int, dnsRefreshMs: Int,
        pool: PoolConfig, circuitBreaker: CircuitBreakerConfig, healthCheck: HealthCheckConfig?,
        tls: UpstreamTLSConfig? = nil, maxInFlight: MaxInFlightConfig? = nil, upstreamProtocol: UpstreamProtocol = .http1
    ) {
        self.upstreamProtocol = upstreamProtocol
        self.tls = tls
        self.maxInFlight = maxInFlight
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

/// An upstream's `tls` object (SPEC §9): verify the endpoints against `ca_file` (else the system store) and
/// `server_name` (else each endpoint's host), optionally presenting a client certificate.
public struct UpstreamTLSConfig: Sendable, Equatable {
    public let caFile: String?
    public let serverName: String?
    public let certFile: String?
    public let keyFile: String?
    public init(caFile: String?, serverName: String?, certFile: String?, keyFile: String?) {
        self.caFile = caFile
        self.serverName = serverName
        self.certFile = certFile
        self.keyFile = keyFile
    }
}
