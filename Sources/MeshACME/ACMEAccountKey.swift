import MeshCrypto
import MeshJSON

/// The ACME account key (ES256, P-256) and the JWS it signs requests with (RFC 8555 §6.2, RFC 7515 flattened
/// JSON serialization). Immutable; signing uses libcrypto through MeshCrypto.
public final class ACMEAccountKey: Sendable {
    /// The private key.
    public let key: PrivateKey
    /// The public JWK with its members in the lexicographic order RFC 7638 §3.2 fixes, so the same bytes serve
    /// the `jwk` header and the thumbprint input.
    public let jwkJSON: String
    /// RFC 7638 thumbprint: base64url(SHA-256(jwkJSON)).
    public let thumbprint: String

    /// Wraps a P-256 key; nil for any other kind (ACME servers must accept ES256, RFC 8555 §6.2).
    public init?(_ key: PrivateKey) {
        guard key.kind == .ec(.p256) else { return nil }
        self.key = key
        let jwk = key.publicJWK()
        var w = JSONWriter()
        w.beginObject()
        w.key("crv")
        w.string(jwk.crv ?? "")
        w.key("kty")
        w.string(jwk.kty)
        w.key("x")
        w.string(jwk.x ?? "")
        w.key("y")
        w.string(jwk.y ?? "")
        w.endObject()
        jwkJSON = w.text
        thumbprint = Base64URL.encode(Digest.sha256(Array(jwkJSON.utf8)))
    }

    /// A fresh account key.
    public static func generate() -> ACMEAccountKey? { PrivateKey.generate(.ec(.p256)).flatMap { ACMEAccountKey($0) } }

    /// The key authorization of a challenge token (RFC 8555 §8.1): `token "." thumbprint`.
    public func keyAuthorization(token: String) -> String { token + "." + thumbprint }

    /// Signs one request body as flattened JSON JWS.
    /// - Parameters:
    ///   - payload: the JSON payload; nil for POST-as-GET (empty payload, RFC 8555 §6.3).
    ///   - kid: the account URL; nil signs with the `jwk` header (newAccount, RFC 8555 §6.2).
    public func sign(payload: String?, url: String, nonce: String, kid: String?) -> [UInt8]? {
        var header = "{\"alg\":\"ES256\","
        if let kid {
            header += "\"kid\":" + Self.quoted(kid)
        } else {
            header += "\"jwk\":" + jwkJSON
        }
        header += ",\"nonce\":" + Self.quoted(nonce) + ",\"url\":" + Self.quoted(url) + "}"
        let protected = Base64URL.encode(Array(header.utf8))
        let body = payload.map { Base64URL.encode(Array($0.utf8)) } ?? ""
        guard let signature = key.sign(.es256, Array((protected + "." + body).utf8)) else { return nil }
        var w = JSONWriter()
        w.beginObject()
        w.key("protected")
        w.string(protected)
        w.key("payload")
        w.string(body)
        w.key("signature")
        w.string(Base64URL.encode(signature))
        w.endObject()
        return w.bytes
    }

    static func quoted(_ text: String) -> String {
        var w = JSONWriter()
        w.string(text)
        return w.text
    }
}
