import MeshCrypto
import MeshJSON

/// A parsed JWK Set (RFC 7517 §5): the usable signature keys of one provider, immutable once built.
///
/// Unusable entries (unknown `kty`, `use` other than "sig", bad members, RSA under 2048 bits, points off the
/// curve, `oct` keys fetched over the network) are skipped and counted in `skipped` rather than failing the
/// whole set, so one bad key in a published set does not lock every user out.
public struct JWKSet: Sendable {
    /// Where a key set came from; decides whether symmetric `oct` keys are trusted.
    public enum Source: Sendable, Equatable {
        /// `jwks.file` (operator-controlled).
        case file
        /// `jwks.inline` (operator-controlled).
        case inline
        /// `jwks.url`: an HMAC secret published over HTTP would be a shared secret anyone can read (SPEC §3).
        case url
    }

    /// Usable keys in document order.
    public let keys: [JWK]
    /// Number of entries that were skipped as unusable.
    public let skipped: Int

    /// Creates a set from already-built keys.
    public init(keys: [JWK], skipped: Int = 0) {
        self.keys = keys
        self.skipped = skipped
    }

    /// Parses a JWKS document. Fails with `.badJSON` for invalid JSON, `.malformed` when there is no `keys` array,
    /// and `.noKeys` when no entry is usable (the caller keeps its previous set).
    public static func parse(_ bytes: [UInt8], source: Source) -> Result<JWKSet, JWTError> {
        var options = JSONReader.Options()
        options.maxDepth = 8
        options.maxBytes = 1 << 20
        let document: JSONNode
        do { document = try JSONReader.parse(bytes, options: options) } catch { return .failure(.badJSON) }
        guard let entries = document["keys"]?.arrayValue else { return .failure(.malformed) }
        var keys: [JWK] = []
        for entry in entries {
            if let key = parseKey(entry, source: source) { keys.append(key) }
        }
        guard !keys.isEmpty else { return .failure(.noKeys) }
        return .success(JWKSet(keys: keys, skipped: entries.count - keys.count))
    }

    /// Parses a JWKS document from a string.
    public static func parse(_ text: String, source: Source) -> Result<JWKSet, JWTError> {
        parse(Array(text.utf8), source: source)
    }

    /// The keys whose `kid` equals `kid`.
    public func keys(withKid kid: String) -> [JWK] {
        keys.filter { $0.kid == kid }
    }

    /// One JWK object → key, or nil when it is unusable for signature verification.
    static func parseKey(_ entry: JSONNode, source: Source) -> JWK? {
        guard entry.objectValue != nil, let kty = entry["kty"]?.stringValue else { return nil }
        // RFC 7517 §4.2: "use" other than "sig" marks an encryption key.
        if let use = entry["use"], use.stringValue != "sig" { return nil }
        var algorithm: SignatureAlgorithm? = nil
        if let alg = entry["alg"] {
            guard let name = alg.stringValue, let parsed = SignatureAlgorithm(name: Substring(name)) else { return nil }
            algorithm = parsed
        }
        var kid: String? = nil
        if let kidNode = entry["kid"] {
            guard let text = kidNode.stringValue else { return nil }
            kid = text
        }
        guard let material = material(kty: kty, entry: entry, source: source) else { return nil }
        let key = JWK(kid: kid, algorithm: algorithm, material: material)
        // A pinned alg that cannot work with the key (e.g. "ES256" on an RSA key) makes the entry useless.
        if let algorithm, !key.fits(algorithm) { return nil }
        return key
    }

    private static func material(kty: String, entry: JSONNode, source: Source) -> JWK.Material? {
        func member(_ name: String) -> [UInt8]? {
            entry[name]?.stringValue.flatMap { Base64URL.decode($0) }
        }
        switch kty {
        case "RSA":
            guard let n = member("n"), let e = member("e") else { return nil }
            return (try? PublicKey.rsa(modulus: n, exponent: e).get()).map { .publicKey($0) }
        case "EC":
            guard let name = entry["crv"]?.stringValue, let curve = ECCurve(rawValue: name),
                let x = member("x"), let y = member("y")
            else { return nil }
            return (try? PublicKey.ec(curve: curve, x: x, y: y).get()).map { .publicKey($0) }
        case "OKP":
            guard entry["crv"]?.stringValue == "Ed25519", let x = member("x") else { return nil }
            return (try? PublicKey.ed25519(x: x).get()).map { .publicKey($0) }
        case "oct":
            guard source != .url, let secret = member("k"), !secret.isEmpty else { return nil }
            return .secret(secret)
        default:
            return nil
        }
    }
}
