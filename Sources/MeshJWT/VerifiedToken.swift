import MeshCrypto
import MeshJSON

/// A token whose signature and registered claims passed verification. Immutable; safe to cache until `expiresAt`.
public struct VerifiedToken: Sendable {
    /// The full claims set (a JSON object), for `require_claims` and `claims_to_headers`.
    public let claims: JSONNode
    /// `sub`, when it is a string.
    public let subject: String?
    /// `exp` in unix seconds, when present.
    public let expiresAt: Int64?
    /// The `alg` the token was verified with.
    public let algorithm: SignatureAlgorithm
    /// The header's `kid`, when present.
    public let kid: String?

    /// Creates a verified token (the verifier and tests build these).
    public init(claims: JSONNode, subject: String?, expiresAt: Int64?, algorithm: SignatureAlgorithm, kid: String?) {
        self.claims = claims
        self.subject = subject
        self.expiresAt = expiresAt
        self.algorithm = algorithm
        self.kid = kid
    }
}
