// Route-level configuration types (SPEC §3 "Routes").

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
    /// SPEC §10: gRPC calls answered Trailers-Only with grpc-status 14, 8 or 1.
    case grpcUnavailable = "grpc-unavailable"
    case grpcResourceExhausted = "grpc-resource-exhausted"
    case grpcCancelled = "grpc-cancelled"
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
    /// SPEC §9 `allow_identities`: the verified client certificate's URI must be one of these (else 403,
    /// before JWT); nil admits any client.
    public let allowIdentities: [String]?
    /// SPEC §11 `rate_limit` of this route (a listener's limit is on `ListenerConfig` and applies as well).
    public let rateLimit: RateLimitConfig?
    /// `grpc_transcode`: the route answers REST by calling gRPC methods (nil: it proxies as it is).
    public let transcode: TranscodeConfig?
    public init(
        name: String, match: MatchConfig, upstream: String, rewrite: RewriteConfig?, jwt: JWTRuleConfig?,
        isPublic: Bool, timeoutMs: Int, perTryTimeoutMs: Int?, retry: RetryConfig, fallback: FallbackConfig?,
        requestHeaders: HeaderEditsConfig, responseHeaders: HeaderEditsConfig, allowIdentities: [String]? = nil,
        rateLimit: RateLimitConfig? = nil, transcode: TranscodeConfig? = nil
    ) {
        self.transcode = transcode
        self.allowIdentities = allowIdentities
        self.rateLimit = rateLimit
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
