import MeshCrypto

/// Immutable verification settings of one JWT provider (SPEC §3 "JWT providers"), built by MeshConfig.
public struct ProviderPolicy: Sendable {
    /// Required `iss`; nil means any issuer (and a missing `iss`) is accepted.
    public var issuer: String?
    /// `aud` must contain one of these; empty means `aud` is not checked.
    public var audiences: [String]
    /// Allow-list of `alg` values; a token with any other `alg` is rejected before any key is touched.
    public var algorithms: [SignatureAlgorithm]
    /// Clock skew tolerated for `exp`, `nbf` and `iat`, in seconds.
    public var leewaySeconds: Int64
    /// Tokens longer than this are rejected without being parsed (SPEC default 8192).
    public var maxTokenBytes: Int
    /// Raw bytes of the `secret_env` variable: an HMAC key with no `kid` for the HS algorithms.
    public var hmacSecret: [UInt8]?
    /// When true (the default) a token without `exp` is rejected: a token that never expires cannot be revoked.
    public var requireExpiration: Bool

    /// Creates a policy; defaults follow SPEC §3.
    public init(
        issuer: String? = nil, audiences: [String] = [], algorithms: [SignatureAlgorithm],
        leewaySeconds: Int64 = 0, maxTokenBytes: Int = 8192, hmacSecret: [UInt8]? = nil,
        requireExpiration: Bool = true
    ) {
        self.issuer = issuer
        self.audiences = audiences
        self.algorithms = algorithms
        self.leewaySeconds = leewaySeconds
        self.maxTokenBytes = maxTokenBytes
        self.hmacSecret = hmacSecret
        self.requireExpiration = requireExpiration
    }
}
