import Glibc
import MeshConfig
import MeshCrypto
import MeshJWT

/// Everything a worker needs to check tokens for one JWT provider, built once per provider and shared by all
/// workers (SPEC §3 "JWT providers"): the policy, where tokens are found, the shared key store and the
/// authenticator combining them. Immutable; the keys inside `keys.store` change under it.
public final class ProviderRuntime: Sendable {
    /// The provider's name.
    public let name: String
    /// The configuration it was built from.
    public let config: JWTProviderConfig
    /// Verification settings; `hmacSecret` holds the raw bytes of the `secret_env` variable.
    public let policy: ProviderPolicy
    /// Where tokens are looked for (`from`).
    public let extractor: TokenExtractor
    /// File/inline/URL key material, shared with later runtimes of the same key sources.
    public let keys: ProviderKeys
    /// Extract → cache → verify, for workers.
    public let authenticator: Authenticator
    /// Configuration problems found while building (unknown algorithm, unset `secret_env`); empty normally,
    /// since `ConfigLoader` validates both.
    public let problems: [String]
    /// Identity of everything the runtime was built from, to reuse it across reloads.
    let fingerprint: Fingerprint

    /// Builds the runtime. `keys` are reused when given (same key sources after a reload); otherwise file and
    /// inline sources are loaded now, synchronously. `environment` looks up `secret_env` (default: the process
    /// environment); `now` is unix seconds.
    public init(
        config: JWTProviderConfig,
        keys: ProviderKeys? = nil,
        environment: (String) -> String? = ProviderRuntime.processEnvironment,
        now: Int64 = ProviderRuntime.unixNow()
    ) {
        var problems: [String] = []
        let secret = Self.secret(config, environment)
        if let variable = config.secretEnv, secret == nil {
            problems.append("secret_env \(variable) is not set or empty: HS tokens cannot be verified")
        }
        var algorithms: [SignatureAlgorithm] = []
        for name in config.algorithms {
            if let algorithm = SignatureAlgorithm(name: Substring(name)) {
                algorithms.append(algorithm)
            } else {
                problems.append("unknown algorithm \(name) ignored")
            }
        }
        name = config.name
        self.config = config
        policy = ProviderPolicy(
            issuer: config.issuer.isEmpty ? nil : config.issuer,
            audiences: config.audiences,
            algorithms: algorithms,
            leewaySeconds: Int64(config.leewaySeconds),
            maxTokenBytes: config.maxTokenBytes,
            hmacSecret: secret
        )
        extractor = TokenExtractor(locations: config.from.map(Self.location))
        self.keys = keys ?? ProviderKeys(provider: config.name, sources: config.jwks, now: now)
        authenticator = Authenticator(extractor: extractor, verifier: Verifier(policy: policy), store: self.keys.store)
        self.problems = problems
        fingerprint = Fingerprint(config: config, environment: environment)
    }

    /// The shared key store.
    public var store: KeySetStore { keys.store }

    /// True when tokens can be checked: a key set is loaded, or the `secret_env` secret is present.
    public var hasKeys: Bool { keys.hasKeySet || policy.hmacSecret != nil }

    /// Configuration and key-loading problems, for logs at start and reload.
    public var loadErrors: [String] { problems + keys.loadErrors }

    /// `getenv`, the default environment.
    public static func processEnvironment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// Wall-clock unix seconds (JWT times and the key store's ages are wall-clock, RFC 7519 §2 NumericDate).
    public static func unixNow() -> Int64 { Int64(time(nil)) }

    /// SPEC §3: the HMAC secret is the raw bytes of the variable named by `secret_env`; unset or empty is none.
    private static func secret(_ config: JWTProviderConfig, _ environment: (String) -> String?) -> [UInt8]? {
        guard let value = config.secretEnv.flatMap(environment), !value.isEmpty else { return nil }
        return Array(value.utf8)
    }

    private static func location(_ source: TokenSource) -> TokenExtractor.Location {
        switch source {
        case .bearer: .bearer
        case .header(let name): .header(name)
        case .cookie(let name): .cookie(name)
        }
    }

    /// What decides whether a reload may keep a runtime as it is.
    struct Fingerprint: Equatable {
        var sources: [String]
        var refreshMs: [Int]
        var policy: [String]
        var from: [TokenSource]
        var secret: [UInt8]?

        init(config: JWTProviderConfig, environment: (String) -> String?) {
            sources = ProviderKeys.identities(config.jwks)
            refreshMs = config.jwks.compactMap { if case .url(_, let ms, _) = $0 { ms } else { nil } }
            policy = [
                config.issuer, config.audiences.joined(separator: "\u{0}"),
                config.algorithms.joined(separator: ","), String(config.leewaySeconds),
                String(config.maxTokenBytes), String(config.forwardToken), config.secretEnv ?? "",
            ]
            from = config.from
            secret = ProviderRuntime.secret(config, environment)
        }
    }
}
