// JWT providers, limits, tracing, logging and sidecar settings (SPEC §3).

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
    /// An `http://` or `https://` URL; `caFile` (PEM) verifies an https server instead of the system store.
    case url(String, refreshMs: Int, caFile: String?)
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
    /// `limits.h2`: what the gateway advertises on HTTP/2 client connections (SPEC §10).
    public let h2: H2LimitsConfig
    public init(
        maxHeaderBytes: Int, maxBodyBytes: Int, maxConnections: Int, headerTimeoutMs: Int, idleTimeoutMs: Int,
        drainGraceMs: Int, drainTimeoutMs: Int, h2: H2LimitsConfig = H2LimitsConfig()
    ) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
        self.maxConnections = maxConnections
        self.headerTimeoutMs = headerTimeoutMs
        self.idleTimeoutMs = idleTimeoutMs
        self.drainGraceMs = drainGraceMs
        self.drainTimeoutMs = drainTimeoutMs
        self.h2 = h2
    }
}

/// `limits.h2` (SPEC §10), advertised in the gateway's SETTINGS on every HTTP/2 client connection.
public struct H2LimitsConfig: Sendable, Equatable {
    /// Streams a client may have open at once; one more is refused (RST_STREAM REFUSED_STREAM).
    public let maxConcurrentStreams: Int
    /// The per-stream receive window (the connection window is streams × this).
    public let initialWindowBytes: Int
    /// The largest frame payload the gateway accepts (16,384–16,777,215, RFC 9113 §6.5.2).
    public let maxFrameBytes: Int
    public init(maxConcurrentStreams: Int = 100, initialWindowBytes: Int = 65535, maxFrameBytes: Int = 16384) {
        self.maxConcurrentStreams = maxConcurrentStreams
        self.initialWindowBytes = initialWindowBytes
        self.maxFrameBytes = maxFrameBytes
    }
}

/// `tracing`: trace sampling and optional OTLP/HTTP span export (`otlpEndpoint` nil = off).
public struct TracingConfig: Sendable {
    public let serviceName: String
    public let sampleRatio: Double
    /// An `http://` or `https://` URL; nil turns export off.
    public let otlpEndpoint: String?
    /// PEM CAs an `https://` collector must chain to instead of the system store (only with an https endpoint).
    public let caFile: String?
    public init(serviceName: String, sampleRatio: Double, otlpEndpoint: String?, caFile: String? = nil) {
        self.serviceName = serviceName
        self.sampleRatio = sampleRatio
        self.otlpEndpoint = otlpEndpoint
        self.caFile = caFile
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
