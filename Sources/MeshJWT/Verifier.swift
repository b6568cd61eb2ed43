import MeshCrypto
import MeshJSON

/// Verifies compact JWS tokens against one provider's policy and key set (Envoy's `jwt_authn/verifier`).
///
/// A value type with no mutable state: share one per provider across workers. Every failure maps to exactly one
/// `JWTError`; nothing from the token chooses keys beyond `kid` (no `jku`/`x5u`/`jwk`).
public struct Verifier: Sendable {
    /// The provider's settings.
    public let policy: ProviderPolicy

    /// Creates a verifier for `policy`.
    public init(policy: ProviderPolicy) {
        self.policy = policy
    }

    /// Verifies a token at time `now` (unix seconds). The length limit is checked before anything else.
    public func verify(token: Substring, keys: JWKSet, now: Int64) -> Result<VerifiedToken, JWTError> {
        guard token.utf8.count <= policy.maxTokenBytes else { return .failure(.tooLarge) }
        if let result = token.utf8.withContiguousStorageIfAvailable({
            verify(bytes: UnsafeRawBufferPointer($0), keys: keys, now: now)
        }) {
            return result
        }
        return Array(token.utf8).withUnsafeBytes { verify(bytes: $0, keys: keys, now: now) }
    }

    /// Verifies a token given as a string.
    public func verify(token: String, keys: JWKSet, now: Int64) -> Result<VerifiedToken, JWTError> {
        verify(token: Substring(token), keys: keys, now: now)
    }

    /// Verifies a token given as raw bytes the caller owns for the duration of the call.
    public func verify(bytes token: UnsafeRawBufferPointer, keys: JWKSet, now: Int64) -> Result<VerifiedToken, JWTError>
    {
        guard !token.isEmpty else { return .failure(.missing) }
        guard token.count <= policy.maxTokenBytes else { return .failure(.tooLarge) }
        guard let parts = TokenParts.split(token) else { return .failure(.malformed) }
        let header: JOSEHeader
        switch JOSEHeader.parse(UnsafeRawBufferPointer(rebasing: token[parts.header])) {
        case .failure(let error): return .failure(error)
        case .success(let parsed): header = parsed
        }
        guard policy.algorithms.contains(header.algorithm) else { return .failure(.algorithmNotAllowed) }
        guard let signature = Base64URL.decode(UnsafeRawBufferPointer(rebasing: token[parts.signature])),
            let payload = Base64URL.decode(UnsafeRawBufferPointer(rebasing: token[parts.payload]))
        else { return .failure(.badBase64) }
        let candidates: [JWK]
        switch candidateKeys(for: header, in: keys) {
        case .failure(let error): return .failure(error)
        case .success(let found): candidates = found
        }
        let signingInput = UnsafeRawBufferPointer(rebasing: token[parts.signingInput])
        let verified = signature.withUnsafeBytes { signatureBytes in
            candidates.contains { $0.verify(header.algorithm, signingInput: signingInput, signature: signatureBytes) }
        }
        guard verified else { return .failure(.badSignature) }
        // Claims are parsed only after the signature holds, so unauthenticated JSON never reaches claim logic.
        return checkClaims(payload, header: header, now: now)
    }

    /// Keys that may have signed a token with this header. With a `kid`: the keys carrying it (or, for HS, the
    /// kid-less `secret_env` secret). Without: every key that fits the algorithm.
    func candidateKeys(for header: JOSEHeader, in keys: JWKSet) -> Result<[JWK], JWTError> {
        let alg = header.algorithm
        let envSecret: JWK? =
            alg.isHMAC ? policy.hmacSecret.map { JWK(kid: nil, algorithm: nil, material: .secret($0)) } : nil
        guard !keys.keys.isEmpty || envSecret != nil else { return .failure(.noKeys) }
        let pool: [JWK]
        if let kid = header.kid {
            let named = keys.keys(withKid: kid)
            if !named.isEmpty {
                pool = named
            } else if let envSecret {
                pool = [envSecret]
            } else {
                return .failure(.unknownKid)
            }
        } else {
            pool = keys.keys + (envSecret.map { [$0] } ?? [])
        }
        let fitting = pool.filter { $0.fits(alg) }
        return fitting.isEmpty ? .failure(.keyTypeMismatch) : .success(fitting)
    }
}
