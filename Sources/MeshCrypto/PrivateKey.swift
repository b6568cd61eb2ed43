import CCrypto

/// Public JWK members of a key (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2), base64url-encoded, for publishing a
/// JWKS. MeshCrypto has no JSON; the caller serialises these (adding `kid`, `use`, `alg`).
public struct PublicJWK: Sendable, Equatable {
    /// `kty`: "RSA", "EC" or "OKP".
    public var kty: String
    /// `crv` for EC/OKP keys, nil for RSA.
    public var crv: String?
    /// `x` coordinate (EC) or public value (OKP).
    public var x: String?
    /// `y` coordinate (EC only).
    public var y: String?
    /// RSA modulus `n`.
    public var n: String?
    /// RSA exponent `e`.
    public var e: String?
}

/// A private signing key (the auth service's token key; test fixtures). Owns one `EVP_PKEY*`, freed in `deinit`.
/// `@unchecked Sendable`: immutable after construction, and each signature uses its own `EVP_MD_CTX`.
public final class PrivateKey: @unchecked Sendable {
    /// The key's type.
    public let kind: KeyKind
    let pkey: OpaquePointer

    private init(pkey: OpaquePointer, kind: KeyKind) {
        self.pkey = pkey
        self.kind = kind
    }

    deinit { EVP_PKEY_free(pkey) }

    /// Generates a fresh key: `.ec(curve)`, `.ed25519`, or `.rsa(bits:)` (RSA is slow; tests only).
    public static func generate(_ kind: KeyKind) -> PrivateKey? {
        let type: String
        switch kind {
        case .rsa: type = "RSA"
        case .ec: type = "EC"
        case .ed25519: type = "ED25519"
        }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, type, nil) else { return nil }
        defer {
            EVP_PKEY_CTX_free(context)
            LibCrypto.clearErrors()
        }
        guard EVP_PKEY_keygen_init(context) == 1 else { return nil }
        switch kind {
        case .rsa(let bits): guard EVP_PKEY_CTX_set_rsa_keygen_bits(context, Int32(bits)) == 1 else { return nil }
        case .ec(let curve): guard EVP_PKEY_CTX_set_group_name(context, curve.groupName) == 1 else { return nil }
        case .ed25519: break
        }
        var pkey: OpaquePointer? = nil
        guard EVP_PKEY_generate(context, &pkey) == 1, let pkey else { return nil }
        return PrivateKey(pkey: pkey, kind: kind)
    }

    /// Loads a PEM private key (PKCS#8 `BEGIN PRIVATE KEY`, or traditional forms libcrypto understands).
    public static func fromPEM(_ pem: [UInt8]) -> Result<PrivateKey, KeyError> {
        let loaded: OpaquePointer? = pem.withUnsafeBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            // A NULL callback makes OpenSSL prompt for a passphrase on the terminal when the PEM is encrypted,
            // which would hang a daemon; this one refuses instead (encrypted keys are not supported).
            return PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil)
        }
        LibCrypto.clearErrors()
        guard let pkey = loaded else { return .failure(.rejected) }
        guard let kind = KeyKind.of(pkey) else {
            EVP_PKEY_free(pkey)
            return .failure(.unsupported)
        }
        return .success(PrivateKey(pkey: pkey, kind: kind))
    }

    /// The key as unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`); the caller must store it mode 0600.
    public func pemPKCS8() -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { preconditionFailure("BIO_new failed") }
        defer { BIO_free(bio) }
        // OpenSSL 3: PEM_write_bio_PrivateKey writes PKCS#8 ("PRIVATE KEY") for every key type.
        precondition(PEM_write_bio_PrivateKey(bio, pkey, nil, nil, 0, nil, nil) == 1, "PEM export failed")
        let pending = Int(BIO_ctrl_pending(bio))
        var out = [UInt8](repeating: 0, count: pending)
        let read = out.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32(pending)) }
        return String(decoding: out.prefix(Int(max(read, 0))), as: UTF8.self)
    }

    /// Public members for a JWKS entry.
    public func publicJWK() -> PublicJWK {
        switch kind {
        case .rsa:
            let n = bignumBytes("n", width: nil)
            let e = bignumBytes("e", width: nil)
            return PublicJWK(kty: "RSA", n: Base64URL.encode(n), e: Base64URL.encode(e))
        case .ec(let curve):
            let x = bignumBytes("qx", width: curve.coordinateBytes)
            let y = bignumBytes("qy", width: curve.coordinateBytes)
            return PublicJWK(kty: "EC", crv: curve.rawValue, x: Base64URL.encode(x), y: Base64URL.encode(y))
        case .ed25519:
            var raw = [UInt8](repeating: 0, count: 32)
            var length = raw.count
            precondition(EVP_PKEY_get_raw_public_key(pkey, &raw, &length) == 1 && length == 32, "raw public key")
            return PublicJWK(kty: "OKP", crv: "Ed25519", x: Base64URL.encode(raw))
        }
    }

    /// The matching public key, rebuilt from the public members exactly as a verifier would from the JWKS.
    public func publicKey() -> PublicKey? {
        let jwk = publicJWK()
        let decode: (String?) -> [UInt8] = { $0.flatMap { Base64URL.decode($0) } ?? [] }
        let result: Result<PublicKey, KeyError>
        switch kind {
        case .rsa: result = PublicKey.rsa(modulus: decode(jwk.n), exponent: decode(jwk.e))
        case .ec(let curve): result = PublicKey.ec(curve: curve, x: decode(jwk.x), y: decode(jwk.y))
        case .ed25519: result = PublicKey.ed25519(x: decode(jwk.x))
        }
        return try? result.get()
    }

    /// Signs `signingInput` for JWS. ES algorithms return raw `R || S` (RFC 7518 §3.4), not DER. Nil when the
    /// algorithm does not fit the key or is HMAC.
    public func sign(_ algorithm: SignatureAlgorithm, _ signingInput: UnsafeRawBufferPointer) -> [UInt8]? {
        guard algorithm.fits(kind), let signature = EVPSignature.sign(pkey, algorithm, signingInput) else {
            return nil
        }
        if case .ec(let curve) = kind {
            return ECDSASignature.raw(fromDER: signature, coordinateBytes: curve.coordinateBytes)
        }
        return signature
    }

    /// Byte-array form of `sign`.
    public func sign(_ algorithm: SignatureAlgorithm, _ signingInput: [UInt8]) -> [UInt8]? {
        signingInput.withUnsafeBytes { sign(algorithm, $0) }
    }

    private func bignumBytes(_ name: String, width: Int?) -> [UInt8] {
        guard let number = LibCrypto.bignumParameter(pkey, name) else { preconditionFailure("missing \(name)") }
        defer { BN_free(number) }
        if let width, let padded = LibCrypto.bytes(of: number, paddedTo: width) { return padded }
        return LibCrypto.minimalBytes(of: number)
    }
}
