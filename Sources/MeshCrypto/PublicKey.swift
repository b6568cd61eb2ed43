import CCrypto

/// An immutable public key for JWS verification, built from JWK members (RFC 7517/7518/8037).
///
/// Owns one `EVP_PKEY*`, freed in `deinit`. `@unchecked Sendable` is sound because the key is never mutated
/// after construction and OpenSSL 3 documents verification with a shared, read-only `EVP_PKEY` as thread-safe
/// (each verification uses its own `EVP_MD_CTX`). One instance may be used by every worker at once.
public final class PublicKey: @unchecked Sendable {
    /// What kind of key this is (decides which `alg` values it may verify).
    public let kind: KeyKind
    let pkey: OpaquePointer

    init(pkey: OpaquePointer, kind: KeyKind) {
        self.pkey = pkey
        self.kind = kind
    }

    deinit { EVP_PKEY_free(pkey) }

    /// RSA key from big-endian modulus `n` and exponent `e` (JWK `kty: RSA`). Rejects moduli under 2048 bits.
    public static func rsa(modulus: [UInt8], exponent: [UInt8]) -> Result<PublicKey, KeyError> {
        guard !modulus.isEmpty, !exponent.isEmpty, exponent.count <= 8 else { return .failure(.badLength) }
        guard let builder = ParamBuilder() else { return .failure(.rejected) }
        builder.bignum("n", bigEndian: modulus)
        builder.bignum("e", bigEndian: exponent)
        return fromData(type: "RSA", builder: builder).flatMap { key in
            guard case .rsa(let bits) = key.kind else { return .failure(.unsupported) }
            // RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used with these algorithms."
            return bits >= 2048 ? .success(key) : .failure(.rsaKeyTooSmall(bits: bits))
        }
    }

    /// EC key from affine coordinates (JWK `kty: EC`). Each coordinate must be exactly the field size
    /// (RFC 7518 §6.2.1.2) and the point must lie on the curve (checked with `EVP_PKEY_public_check`).
    public static func ec(curve: ECCurve, x: [UInt8], y: [UInt8]) -> Result<PublicKey, KeyError> {
        guard x.count == curve.coordinateBytes, y.count == curve.coordinateBytes else { return .failure(.badLength) }
        guard let builder = ParamBuilder() else { return .failure(.rejected) }
        builder.utf8("group", curve.groupName)
        // SEC 1 §2.3.3 uncompressed point: 0x04 || X || Y.
        builder.octets("pub", [0x04] + x + y)
        let result = fromData(type: "EC", builder: builder)
        guard case .success(let key) = result else { return .failure(.pointNotOnCurve) }
        guard let check = EVP_PKEY_CTX_new_from_pkey(nil, key.pkey, nil) else { return .failure(.rejected) }
        defer { EVP_PKEY_CTX_free(check) }
        guard EVP_PKEY_public_check(check) == 1 else {
            LibCrypto.clearErrors()
            return .failure(.pointNotOnCurve)
        }
        return .success(key)
    }

    /// Ed25519 key from its 32-byte public value (RFC 8037 §2, JWK `kty: OKP, crv: Ed25519`).
    public static func ed25519(x: [UInt8]) -> Result<PublicKey, KeyError> {
        guard x.count == 32 else { return .failure(.badLength) }
        let pkey = x.withUnsafeBufferPointer {
            EVP_PKEY_new_raw_public_key_ex(nil, "ED25519", nil, $0.baseAddress, $0.count)
        }
        guard let pkey else {
            LibCrypto.clearErrors()
            return .failure(.rejected)
        }
        return .success(PublicKey(pkey: pkey, kind: .ed25519))
    }

    private static func fromData(type: String, builder: ParamBuilder) -> Result<PublicKey, KeyError> {
        guard let context = EVP_PKEY_CTX_new_from_name(nil, type, nil) else { return .failure(.rejected) }
        defer { EVP_PKEY_CTX_free(context) }
        var pkey: OpaquePointer? = nil
        let ok = builder.withParams { params in
            EVP_PKEY_fromdata_init(context) == 1
                && EVP_PKEY_fromdata(context, &pkey, meshgate_evp_pkey_public_key(), params) == 1
        }
        guard ok == true, let pkey else {
            LibCrypto.clearErrors()
            return .failure(.rejected)
        }
        guard let kind = KeyKind.of(pkey) else {
            EVP_PKEY_free(pkey)
            return .failure(.unsupported)
        }
        return .success(PublicKey(pkey: pkey, kind: kind))
    }
}
