import CCrypto

/// JWS `alg` values meshgate implements (RFC 7518 §3.1, RFC 8037 §3.1). `none` is deliberately absent.
public enum SignatureAlgorithm: String, Sendable, Equatable, CaseIterable {
    /// HMAC with SHA-256.
    case hs256 = "HS256"
    /// HMAC with SHA-384.
    case hs384 = "HS384"
    /// HMAC with SHA-512.
    case hs512 = "HS512"
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    case rs256 = "RS256"
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    case rs384 = "RS384"
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    case rs512 = "RS512"
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256, 32-byte salt.
    case ps256 = "PS256"
    /// RSASSA-PSS with SHA-384, MGF1-SHA-384, 48-byte salt.
    case ps384 = "PS384"
    /// RSASSA-PSS with SHA-512, MGF1-SHA-512, 64-byte salt.
    case ps512 = "PS512"
    /// ECDSA P-256 with SHA-256.
    case es256 = "ES256"
    /// ECDSA P-384 with SHA-384.
    case es384 = "ES384"
    /// ECDSA P-521 with SHA-512.
    case es512 = "ES512"
    /// EdDSA; meshgate supports the Ed25519 curve only (RFC 8037).
    case edDSA = "EdDSA"

    /// Parses an exact, case-sensitive `alg` header value (RFC 7515 §4.1.1: values are case-sensitive).
    public init?(name: Substring) {
        guard let match = Self.allCases.first(where: { $0.rawValue.utf8.elementsEqual(name.utf8) }) else { return nil }
        self = match
    }

    /// True for the HMAC family, whose key is a shared secret rather than a `PublicKey`.
    public var isHMAC: Bool { self == .hs256 || self == .hs384 || self == .hs512 }

    /// The hash the algorithm uses (Ed25519 hashes internally with SHA-512; reported for completeness).
    public var hash: HashFunction {
        switch self {
        case .hs256, .rs256, .ps256, .es256: return .sha256
        case .hs384, .rs384, .ps384, .es384: return .sha384
        case .hs512, .rs512, .ps512, .es512, .edDSA: return .sha512
        }
    }

    /// True when a key of `kind` may be used with this algorithm: RSA for RS/PS, the matching curve for ES
    /// (RFC 7518 §3.4 ties each ES alg to one curve), Ed25519 for EdDSA, never any public key for HS.
    public func fits(_ kind: KeyKind) -> Bool {
        switch (self, kind) {
        case (.rs256, .rsa), (.rs384, .rsa), (.rs512, .rsa), (.ps256, .rsa), (.ps384, .rsa), (.ps512, .rsa):
            return true
        case (.es256, .ec(.p256)), (.es384, .ec(.p384)), (.es512, .ec(.p521)):
            return true
        case (.edDSA, .ed25519):
            return true
        default:
            return false
        }
    }

    /// Verifies a JWS signature over `signingInput` with a public key. False when the key does not fit the
    /// algorithm, the signature has the wrong shape (e.g. DER instead of raw R||S for ES) or does not verify.
    public func verify(
        publicKey: PublicKey, signingInput: UnsafeRawBufferPointer, signature: UnsafeRawBufferPointer
    ) -> Bool {
        guard fits(publicKey.kind) else { return false }
        switch publicKey.kind {
        case .ec(let curve):
            guard let der = ECDSASignature.der(fromRaw: signature, coordinateBytes: curve.coordinateBytes) else {
                return false
            }
            return der.withUnsafeBytes { EVPSignature.verify(publicKey.pkey, self, signingInput, $0) }
        case .rsa, .ed25519:
            return EVPSignature.verify(publicKey.pkey, self, signingInput, signature)
        }
    }

    /// Verifies an HS* signature: recomputes the HMAC under `secret` and compares in constant time. False for
    /// non-HMAC algorithms, so a secret can never stand in for a public key or the other way round.
    public func verify(
        secret: UnsafeRawBufferPointer, signingInput: UnsafeRawBufferPointer, signature: UnsafeRawBufferPointer
    ) -> Bool {
        guard isHMAC else { return false }
        return HMAC.verify(hash, key: secret, data: signingInput, expected: signature)
    }

    /// The EVP digest to hand `EVP_DigestVerifyInit`/`EVP_DigestSignInit` (none for Ed25519, which is one-shot).
    var evpDigest: OpaquePointer? { self == .edDSA ? nil : hash.evpMD }

    /// True for the RSASSA-PSS algorithms.
    var isPSS: Bool { self == .ps256 || self == .ps384 || self == .ps512 }
}

/// EVP one-shot sign/verify shared by `PublicKey` and `PrivateKey`.
enum EVPSignature {
    /// Configures RSASSA-PSS as RFC 7518 §3.5 fixes it: MGF1 with the same hash, salt length = hash length.
    private static func configurePSS(_ context: OpaquePointer?, _ algorithm: SignatureAlgorithm) -> Bool {
        guard algorithm.isPSS else { return true }
        return EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PSS_PADDING) == 1
            && EVP_PKEY_CTX_set_rsa_pss_saltlen(context, RSA_PSS_SALTLEN_DIGEST) == 1
            && EVP_PKEY_CTX_set_rsa_mgf1_md(context, algorithm.hash.evpMD) == 1
    }

    static func verify(
        _ pkey: OpaquePointer, _ algorithm: SignatureAlgorithm, _ input: UnsafeRawBufferPointer,
        _ signature: UnsafeRawBufferPointer
    ) -> Bool {
        guard let sig = signature.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return false }
        guard let context = EVP_MD_CTX_new() else { return false }
        defer {
            EVP_MD_CTX_free(context)
            LibCrypto.clearErrors()
        }
        var keyContext: OpaquePointer? = nil
        guard EVP_DigestVerifyInit(context, &keyContext, algorithm.evpDigest, nil, pkey) == 1,
            configurePSS(keyContext, algorithm)
        else { return false }
        return withNonNullBytes(input) { data in
            EVP_DigestVerify(context, sig, signature.count, data, input.count) == 1
        }
    }

    static func sign(_ pkey: OpaquePointer, _ algorithm: SignatureAlgorithm, _ input: UnsafeRawBufferPointer)
        -> [UInt8]?
    {
        guard let context = EVP_MD_CTX_new() else { return nil }
        defer {
            EVP_MD_CTX_free(context)
            LibCrypto.clearErrors()
        }
        var keyContext: OpaquePointer? = nil
        guard EVP_DigestSignInit(context, &keyContext, algorithm.evpDigest, nil, pkey) == 1,
            configurePSS(keyContext, algorithm)
        else { return nil }
        return withNonNullBytes(input) { data -> [UInt8]? in
            var length = 0
            guard EVP_DigestSign(context, nil, &length, data, input.count) == 1 else { return nil }
            var out = [UInt8](repeating: 0, count: length)
            guard
                out.withUnsafeMutableBufferPointer({
                    EVP_DigestSign(context, $0.baseAddress, &length, data, input.count)
                })
                    == 1
            else { return nil }
            return Array(out.prefix(length))
        }
    }

    /// libcrypto wants a non-NULL pointer even for zero-length input.
    private static func withNonNullBytes<R>(_ input: UnsafeRawBufferPointer, _ body: (UnsafePointer<UInt8>) -> R) -> R {
        if let base = input.baseAddress { return body(base.assumingMemoryBound(to: UInt8.self)) }
        var zero: UInt8 = 0
        return withUnsafePointer(to: &zero) { body($0) }
    }
}
