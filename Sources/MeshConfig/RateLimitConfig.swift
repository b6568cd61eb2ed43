// Rate limit and admission control configuration types (SPEC §11).

/// `rate_limit.key`: what requests are counted by.
public enum RateLimitKeyConfig: Sendable, Equatable {
    case clientIP
    /// Header name, lower-cased.
    case header(String)
    /// A claim of the verified token; only on routes with JWT.
    case claim(String)
    /// One bucket for the whole route (or listener).
    case route

    /// As written in the file: `client_ip`, `header:<name>`, `claim:<name>`, `route`.
    public var text: String {
        switch self {
        case .clientIP: "client_ip"
        case .header(let name): "header:" + name
        case .claim(let name): "claim:" + name
        case .route: "route"
        }
    }
}

/// `rate_limit.scope`: exact per process, or shared by every replica through `rate_limits.store`.
public enum RateLimitScope: String, Sendable, Equatable {
    case process
    case global
}

/// A route's or listener's `rate_limit`, defaults applied.
public struct RateLimitConfig: Sendable, Equatable {
    public let key: RateLimitKeyConfig
    /// Refill rate, > 0 (fractions allowed).
    public let requestsPerSecond: Double
    /// Requests admitted at once from a full bucket, ≥ 1.
    public let burst: Int
    public let scope: RateLimitScope
    /// Distinct keys kept (least recently used evicted beyond it).
    public let maxKeys: Int
    public init(key: RateLimitKeyConfig, requestsPerSecond: Double, burst: Int, scope: RateLimitScope, maxKeys: Int) {
        self.key = key
        self.requestsPerSecond = requestsPerSecond
        self.burst = burst
        self.scope = scope
        self.maxKeys = maxKeys
    }
}

/// `rate_limits.store.on_error`: what a global limit decides when Redis is slow or down.
public enum RateLimitOnError: String, Sendable, Equatable {
    case allow
    case deny
}

/// `rate_limits.store`: the Redis shared by every replica for `scope: "global"` limits.
public struct RateLimitStoreConfig: Sendable, Equatable {
    public let redis: HostPort
    /// A reply slower than this counts as a store error (`on_error` decides).
    public let timeoutMs: Int
    public let onError: RateLimitOnError
    public init(redis: HostPort, timeoutMs: Int, onError: RateLimitOnError) {
        self.redis = redis
        self.timeoutMs = timeoutMs
        self.onError = onError
    }
}

/// The top-level `rate_limits` section.
public struct RateLimitsConfig: Sendable, Equatable {
    /// nil: no store; only `scope: "process"` limits are allowed.
    public let store: RateLimitStoreConfig?
    public init(store: RateLimitStoreConfig?) { self.store = store }
    public static let none = RateLimitsConfig(store: nil)
}

/// `upstreams.*.max_in_flight`: a fixed cap on concurrent requests, or a cap that follows latency.
public enum MaxInFlightConfig: Sendable, Equatable {
    case fixed(Int)
    case adaptive
}
