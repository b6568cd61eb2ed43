import CCrypto

/// NIST curves usable for JWS ECDSA (RFC 7518 §6.2.1.1), named as in JWK `crv`.
public enum ECCurve: String, Sendable, Equatable, CaseIterable {
    /// NIST P-256 (secp256r1), used by ES256.
    case p256 = "P-256"
    /// NIST P-384 (secp384r1), used by ES384.
    case p384 = "P-384"
    /// NIST P-521 (secp521r1), used by ES512.
    case p521 = "P-521"

    /// Size of one coordinate (and of R and S in a JWS signature), in bytes.
    public var coordinateBytes: Int {
        switch self {
        case .p256: return 32
        case .p384: return 48
        case .p521: return 66
        }
    }

    /// OpenSSL's group name for `EVP_PKEY_fromdata` ("group" parameter).
    var groupName: String {
        switch self {
        case .p256: return "prime256v1"
        case .p384: return "secp384r1"
        case .p521: return "secp521r1"
        }
    }

    /// Maps OpenSSL's group names (short and NIST spellings) back to a curve.
    static func fromGroupName(_ name: String) -> ECCurve? {
        switch name {
        case "prime256v1", "P-256", "secp256r1": return .p256
        case "secp384r1", "P-384": return .p384
        case "secp521r1", "P-521": return .p521
        default: return nil
        }
    }
}

/// The type of an asymmetric key, as far as JWS algorithm selection cares.
public enum KeyKind: Sendable, Equatable {
    /// RSA with a modulus of `bits` bits.
    case rsa(bits: Int)
    /// ECDSA on a NIST curve.
    case ec(ECCurve)
    /// Ed25519 (RFC 8037 OKP key).
    case ed25519

    /// Classifies a libcrypto key; nil for types meshgate does not use.
    static func of(_ pkey: OpaquePointer) -> KeyKind? {
        if EVP_PKEY_is_a(pkey, "RSA") == 1 { return .rsa(bits: Int(EVP_PKEY_get_bits(pkey))) }
        if EVP_PKEY_is_a(pkey, "ED25519") == 1 { return .ed25519 }
        if EVP_PKEY_is_a(pkey, "EC") == 1 {
            var name = [CChar](repeating: 0, count: 64)
            var length = 0
            guard EVP_PKEY_get_utf8_string_param(pkey, "group", &name, name.count, &length) == 1 else { return nil }
            let group = String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return ECCurve.fromGroupName(group).map { .ec($0) }
        }
        return nil
    }
}

/// Why a key could not be built or loaded. One case per failure so JWKS loading can count them.
public enum KeyError: Error, Sendable, Equatable {
    /// RSA modulus below 2048 bits (RFC 7518 §3.3 requires at least 2048).
    case rsaKeyTooSmall(bits: Int)
    /// A member has the wrong length or is empty (e.g. EC coordinate not exactly the field size, RFC 7518 §6.2.1.2).
    case badLength
    /// The EC point is not on the named curve (an invalid-curve attack vector).
    case pointNotOnCurve
    /// The key type or curve is not one meshgate supports.
    case unsupported
    /// libcrypto rejected the key material (malformed PEM, invalid parameters).
    case rejected
}
