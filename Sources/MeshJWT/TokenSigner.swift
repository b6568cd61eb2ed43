import MeshCrypto
import MeshJSON

/// Issues compact JWS tokens (RFC 7515 §7.1): used by the auth service and by tests that need tokens with
/// chosen claims and times. The claims are passed as ready JSON so the caller controls their exact bytes.
public enum TokenSigner {
    /// The signing key: a private key for RS/PS/ES/EdDSA or a shared secret for HS.
    public enum Key: Sendable {
        /// Asymmetric key.
        case privateKey(PrivateKey)
        /// HMAC secret.
        case secret([UInt8])
    }

    /// Signs `claimsJSON` (a JSON object's bytes) with header `{"alg","typ":"JWT","kid"?}`; nil when the key does
    /// not fit `algorithm`.
    public static func sign(
        claimsJSON: [UInt8], algorithm: SignatureAlgorithm, key: Key, kid: String? = nil
    ) -> String? {
        var header = JSONWriter()
        header.beginObject()
        header.key("alg")
        header.string(algorithm.rawValue)
        header.key("typ")
        header.string("JWT")
        if let kid {
            header.key("kid")
            header.string(kid)
        }
        header.endObject()
        let signingInput = Base64URL.encode(header.bytes) + "." + Base64URL.encode(claimsJSON)
        let inputBytes = Array(signingInput.utf8)
        let signature: [UInt8]?
        switch key {
        case .privateKey(let privateKey):
            signature = privateKey.sign(algorithm, inputBytes)
        case .secret(let secret):
            signature = algorithm.isHMAC ? HMAC.mac(algorithm.hash, key: secret, data: inputBytes) : nil
        }
        return signature.map { signingInput + "." + Base64URL.encode($0) }
    }

    /// A JWKS document (`{"keys":[…]}`) publishing public keys with their `kid` and `alg`, `use: sig`.
    public static func jwksDocument(_ keys: [(kid: String, algorithm: SignatureAlgorithm, jwk: PublicJWK)]) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("keys")
        writer.beginArray()
        for entry in keys {
            writer.beginObject()
            let members: [(String, String?)] = [
                ("kty", entry.jwk.kty), ("kid", entry.kid), ("use", "sig"), ("alg", entry.algorithm.rawValue),
                ("crv", entry.jwk.crv), ("x", entry.jwk.x), ("y", entry.jwk.y), ("n", entry.jwk.n), ("e", entry.jwk.e),
            ]
            for (name, value) in members {
                guard let value else { continue }
                writer.key(name)
                writer.string(value)
            }
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }
}
