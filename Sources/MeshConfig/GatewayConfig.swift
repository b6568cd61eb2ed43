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
    /// SPEC §11 `rate_limits` (the shared store of `scope: "global"` limits).
    public let rateLimits: RateLimitsConfig

    public init(
        version: Int, admin: AdminConfig, listeners: [ListenerConfig], upstreams: [String: UpstreamConfig],
        upstreamOrder: [String], jwtProviders: [String: JWTProviderConfig], limits: LimitsConfig,
        tracing: TracingConfig, logging: LoggingConfig, watchConfig: Bool, app: AppConfig?,
        rateLimits: RateLimitsConfig = .none
    ) {
        self.rateLimits = rateLimits
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
    /// TLS termination (SPEC §9); nil: plaintext.
    public let tls: ListenerTLSConfig?
    /// A plaintext listener answering every request with a 308 to `https://<host>[:port]<target>` (SPEC §9).
    public let redirectToHTTPS: Int?
    /// SPEC §11: a `rate_limit` for every route of the listener (checked before a route's own limit).
    public let rateLimit: RateLimitConfig?
    public init(
        name: String, address: HostPort, jwt: JWTRuleConfig?, routes: [RouteConfig], tls: ListenerTLSConfig? = nil,
        redirectToHTTPS: Int? = nil, rateLimit: RateLimitConfig? = nil
    ) {
        self.redirectToHTTPS = redirectToHTTPS
        self.rateLimit = rateLimit
        self.name = name
        self.address = address
        self.jwt = jwt
        self.routes = routes
        self.tls = tls
    }
}

/// A listener's `tls` object (SPEC §9). File paths are used as written: relative ones resolve against the
/// working directory, as `jwks.file` does.
public struct ListenerTLSConfig: Sendable, Equatable {
    /// One certificate chain and its private key (PEM files).
    public struct Pair: Sendable, Equatable {
        public let certFile: String
        public let keyFile: String
        public init(certFile: String, keyFile: String) {
            self.certFile = certFile
            self.keyFile = keyFile
        }
    }
    /// Chosen by SNI; the first is served without SNI or without a match.
    public let certificates: [Pair]
    /// "1.2" or "1.3".
    public let minVersion: String
    /// ALPN protocols in preference order.
    public let alpn: [String]
    public let clientCAFile: String?
    public let requireClientCert: Bool
    public let handshakeTimeoutMs: Int
    /// SPEC §12: certificates from an ACME server instead of `certificates` (then empty).
    public let acme: ACMEListenerConfig?

    public init(
        certificates: [Pair], minVersion: String = "1.2", alpn: [String] = ["http/1.1"], clientCAFile: String? = nil,
        requireClientCert: Bool = false, handshakeTimeoutMs: Int = 10_000, acme: ACMEListenerConfig? = nil
    ) {
        self.acme = acme
        self.certificates = certificates
        self.minVersion = minVersion
        self.alpn = alpn
        self.clientCAFile = clientCAFile
        self.requireClientCert = requireClientCert
        self.handshakeTimeoutMs = handshakeTimeoutMs
    }
}
