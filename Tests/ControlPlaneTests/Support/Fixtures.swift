import Glibc
import MeshConfig
import MeshCrypto
import MeshJWT
import Testing

/// A signing key with its `kid`, for minting tokens and publishing JWKS documents in tests.
struct TestKey: Sendable {
    let kid: String
    let key: PrivateKey

    init(kid: String) {
        self.kid = kid
        key = PrivateKey.generate(.ec(.p256))!
    }

    /// A token with `iss: meshgate-auth`, `aud: meshgate`, expiring in an hour (wall clock).
    func token(subject: String = "alice") -> String {
        let now = Int64(time(nil))
        let claims = #"{"iss":"meshgate-auth","aud":"meshgate","sub":"\#(subject)","iat":\#(now),"exp":\#(now + 3600)}"#
        return TokenSigner.sign(claimsJSON: Array(claims.utf8), algorithm: .es256, key: .privateKey(key), kid: kid)!
    }

    /// `{"keys":[…]}` publishing `keys`.
    static func jwks(_ keys: [TestKey]) -> String {
        String(decoding: TokenSigner.jwksDocument(keys.map { ($0.kid, .es256, $0.key.publicJWK()) }), as: UTF8.self)
    }
}

/// A valid config: one listener routing `/` to the first upstream, the given upstreams and providers.
func makeConfig(
    upstreams: String = #"{"app": {"endpoints": ["127.0.0.1:3000"]}}"#,
    providers: String = "{}",
    environment: [String: String] = [:]
) throws -> GatewayConfig {
    let firstUpstream = upstreams.split(separator: "\"")[1]
    let text = """
        {"version": 1,
         "listeners": [{"name": "edge", "address": "127.0.0.1:8080",
                        "routes": [{"match": {"path": "/"}, "upstream": "\(firstUpstream)", "public": true}]}],
         "upstreams": \(upstreams),
         "jwt_providers": \(providers)}
        """
    switch ConfigLoader.parse(Array(text.utf8), environment: environment) {
    case .success(let config): return config
    case .failure(let errors):
        Issue.record("invalid test config: \(errors)")
        throw errors
    }
}

/// A provider block `"name": {...}` with the common claims and `jwks` / extra members.
func provider(_ name: String, jwks: String? = nil, algorithms: String = #"["ES256"]"#, extra: String = "") -> String {
    var members = [#""issuer": "meshgate-auth""#, #""audiences": ["meshgate"]"#, #""algorithms": \#(algorithms)"#]
    if let jwks { members.append("\"jwks\": \(jwks)") }
    if !extra.isEmpty { members.append(extra) }
    return "\"\(name)\": {\(members.joined(separator: ", "))}"
}

/// Writes `text` to a fresh temporary file and returns its path.
func temporaryFile(_ text: String) throws -> String {
    var template = Array("/tmp/meshgate-control-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else { throw TestFailure("mkstemp failed: errno \(errno)") }
    defer { close(fd) }
    let bytes = Array(text.utf8)
    guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
        throw TestFailure("short write")
    }
    return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

/// Looks up request headers for `Authenticator.authenticate`.
func bearer(_ token: String) -> (String) -> [Substring] {
    { name in name == "authorization" ? ["Bearer \(token)"[...]] : [] }
}
