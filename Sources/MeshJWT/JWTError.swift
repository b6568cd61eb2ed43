/// Why a token was not accepted: one case per failure, like Envoy's `jwt_authn/status.h`.
///
/// `label` is the stable string used in metrics (`meshgate_jwt_validations_total{result}`) and logs;
/// `isForbidden` separates 403 (a valid token lacking required claims) from 401 (everything else).
public enum JWTError: Error, Sendable, Equatable, Hashable {
    /// No token in any configured location.
    case missing
    /// Not a compact JWS (not exactly three parts, empty header, wrong JSON types in header or claims).
    case malformed
    /// Longer than the provider's `max_token_bytes`.
    case tooLarge
    /// A part is not strict unpadded base64url (RFC 7515 §2).
    case badBase64
    /// Header or payload is not valid JSON (or nests too deeply).
    case badJSON
    /// `alg` is not in the provider's allow-list (or not an algorithm meshgate implements).
    case algorithmNotAllowed
    /// `alg` is `none` in any casing (RFC 7518 §3.6): never accepted.
    case algorithmNone
    /// The selected key cannot be used with the token's `alg` (wrong type, curve, or JWK `alg`/`use`).
    case keyTypeMismatch
    /// The token's `kid` matches no key in the set.
    case unknownKid
    /// The provider has no usable keys.
    case noKeys
    /// The signature does not verify (or has the wrong shape).
    case badSignature
    /// `exp` is not in the future, leeway included (RFC 7519 §4.1.4).
    case expired
    /// `exp` is absent and the provider requires it.
    case expirationMissing
    /// `nbf` is in the future beyond the leeway (RFC 7519 §4.1.5).
    case notYetValid
    /// `iat` is in the future beyond the leeway.
    case issuedInFuture
    /// `iss` is absent or differs from the provider's `issuer`.
    case issuerMismatch
    /// `aud` is absent or contains none of the provider's `audiences`.
    case audienceMismatch
    /// The header has `crit` (RFC 7515 §4.1.11): meshgate understands no extensions, so any entry rejects.
    case unknownCritical
    /// A `require_claims` claim is absent (403).
    case claimMissing(String)
    /// A `require_claims` claim does not match (403).
    case claimMismatch(String)

    /// Stable snake_case label for metrics and logs (no claim names: they would explode label cardinality).
    public var label: String {
        switch self {
        case .missing: return "missing"
        case .malformed: return "malformed"
        case .tooLarge: return "too_large"
        case .badBase64: return "bad_base64"
        case .badJSON: return "bad_json"
        case .algorithmNotAllowed: return "algorithm_not_allowed"
        case .algorithmNone: return "algorithm_none"
        case .keyTypeMismatch: return "key_type_mismatch"
        case .unknownKid: return "unknown_kid"
        case .noKeys: return "no_keys"
        case .badSignature: return "bad_signature"
        case .expired: return "expired"
        case .expirationMissing: return "exp_missing"
        case .notYetValid: return "not_yet_valid"
        case .issuedInFuture: return "issued_in_future"
        case .issuerMismatch: return "issuer_mismatch"
        case .audienceMismatch: return "audience_mismatch"
        case .unknownCritical: return "unknown_critical"
        case .claimMissing: return "claim_missing"
        case .claimMismatch: return "claim_mismatch"
        }
    }

    /// True when the token was valid but lacked required claims: SPEC §3 answers 403, not 401.
    public var isForbidden: Bool {
        switch self {
        case .claimMissing, .claimMismatch: return true
        default: return false
        }
    }

    /// The RFC 6750 §3.1 `error` attribute for `WWW-Authenticate`: nil when the token is missing (§3.1: no error
    /// code without authentication information), `insufficient_scope` for 403, else `invalid_token`.
    public var bearerErrorCode: String? {
        if self == .missing { return nil }
        return isForbidden ? "insufficient_scope" : "invalid_token"
    }
}
