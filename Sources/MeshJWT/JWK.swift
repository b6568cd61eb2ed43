import MeshCrypto

/// One usable verification key from a JWKS (RFC 7517 §4). Immutable and `Sendable`: shared by all workers.
public struct JWK: Sendable {
    /// The key material: a public key, or an HMAC secret (`kty: oct`, file/inline sources only).
    public enum Material: Sendable {
        /// RSA, EC or Ed25519 public key.
        case publicKey(PublicKey)
        /// Shared secret for HS256/384/512.
        case secret([UInt8])
    }

    /// `kid`, when the JWK has one.
    public let kid: String?
    /// `alg`, when the JWK pins one (RFC 7517 §4.4): then tokens must use exactly that algorithm.
    public let algorithm: SignatureAlgorithm?
    /// The key itself.
    public let material: Material

    /// Creates a key (tests, and `secret_env` secrets which have neither `kid` nor `alg`).
    public init(kid: String?, algorithm: SignatureAlgorithm?, material: Material) {
        self.kid = kid
        self.algorithm = algorithm
        self.material = material
    }

    /// True when this key may verify a token signed with `alg`: the type must fit (RSA for RS/PS, the matching
    /// curve for ES, Ed25519 for EdDSA, a secret for HS only) and a pinned JWK `alg` must be equal.
    public func fits(_ alg: SignatureAlgorithm) -> Bool {
        if let algorithm, algorithm != alg { return false }
        switch material {
        case .publicKey(let key): return alg.fits(key.kind)
        case .secret: return alg.isHMAC
        }
    }

    /// Verifies `signature` over `signingInput`; false when the key does not fit `alg`.
    func verify(_ alg: SignatureAlgorithm, signingInput: UnsafeRawBufferPointer, signature: UnsafeRawBufferPointer)
        -> Bool
    {
        guard fits(alg) else { return false }
        switch material {
        case .publicKey(let key):
            return alg.verify(publicKey: key, signingInput: signingInput, signature: signature)
        case .secret(let secret):
            return secret.withUnsafeBytes { alg.verify(secret: $0, signingInput: signingInput, signature: signature) }
        }
    }
}
