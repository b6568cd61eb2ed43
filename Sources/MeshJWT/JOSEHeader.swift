import MeshCrypto
import MeshJSON

/// The fields of a JWS protected header that verification uses (RFC 7515 §4.1). `jku`, `x5u`, `jwk` and `x5c`
/// are deliberately ignored: keys come only from the provider's configured key set, never from the token.
struct JOSEHeader {
    /// The verified-against algorithm.
    let algorithm: SignatureAlgorithm
    /// `kid`, when present.
    let kid: String?

    /// Headers are small and flat; a deep or huge header is an attack, not a token.
    static let jsonOptions: JSONReader.Options = {
        var options = JSONReader.Options()
        options.maxDepth = 8
        options.maxBytes = 8192
        return options
    }()

    /// Decodes and checks the encoded header segment. Order matters for the error reported: encoding, JSON,
    /// shape, then `alg` (`none` first, RFC 7518 §3.6), then `crit`.
    static func parse(_ encoded: UnsafeRawBufferPointer) -> Result<JOSEHeader, JWTError> {
        guard let bytes = Base64URL.decode(encoded) else { return .failure(.badBase64) }
        let node: JSONNode
        do { node = try JSONReader.parse(bytes, options: jsonOptions) } catch { return .failure(.badJSON) }
        guard node.objectValue != nil, let algNode = node["alg"], let name = algNode.stringValue else {
            return .failure(.malformed)
        }
        if name.lowercased() == "none" { return .failure(.algorithmNone) }
        guard let algorithm = SignatureAlgorithm(name: Substring(name)) else { return .failure(.algorithmNotAllowed) }
        // RFC 7515 §4.1.11: a recipient MUST reject a JWS whose `crit` lists an extension it does not understand;
        // meshgate implements none, so any `crit` at all (even malformed or empty) is rejected.
        if node["crit"] != nil { return .failure(.unknownCritical) }
        var kid: String? = nil
        if let kidNode = node["kid"] {
            guard let text = kidNode.stringValue else { return .failure(.malformed) }
            kid = text
        }
        return .success(JOSEHeader(algorithm: algorithm, kid: kid))
    }
}
