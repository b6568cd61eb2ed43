import MeshCrypto
import MeshJSON
import MeshJWT
import ServiceKit

/// auth-service (SPEC §8): `POST /register`, `POST /login` issuing ES256 access tokens, and
/// `GET /.well-known/jwks.json` with every public key a verifier may still need.
public final class AuthService {
    /// Token and hashing settings.
    public struct Settings: Sendable {
        /// `iss` of issued tokens.
        public var issuer = "meshgate-auth"
        /// `aud` of issued tokens.
        public var audience = "meshgate"
        /// Token lifetime in seconds (`exp - iat`), also the retention of rotated-out keys.
        public var tokenTTLSeconds: Int64 = 3600
        /// `scope` of issued tokens (space-separated, RFC 8693 §4.2 style, as SPEC's `require_claims` expects).
        public var scope = "profile:read profile:write follows:write"
        /// scrypt cost for new hashes.
        public var passwordCost = PasswordHash.Cost.interactive

        /// The defaults above.
        public init() {}
    }

    let settings: Settings
    private let users: UserStore
    let keys: SigningKeys
    /// Verified against for unknown users, so "no such user" costs the same scrypt time as "wrong password".
    private let decoyHash: String

    /// Opens `users.sqlite3` and the key directory under `dataDirectory`, creating a first key if needed.
    public init(dataDirectory: String, settings: Settings) throws {
        self.settings = settings
        users = try UserStore(path: dataDirectory + "/users.sqlite3")
        keys = try SigningKeys(directory: dataDirectory + "/keys", retentionSeconds: settings.tokenTTLSeconds + 60)
        decoyHash = PasswordHash.hash(SecureRandom.bytes(16), cost: settings.passwordCost) ?? ""
    }

    /// The service's routes.
    public func router() -> Router {
        var router = Router()
        router.add("POST", "/register", name: "register") { [self] in try register($0) }
        router.add("POST", "/login", name: "login") { [self] in try login($0) }
        router.add("GET", "/.well-known/jwks.json", name: "jwks") { [self] _ in try jwks() }
        return router
    }

    // MARK: - Handlers

    private func register(_ request: Request) throws -> Response {
        let (username, password) = try Self.credentials(request)
        guard let hash = PasswordHash.hash(Array(password.utf8), cost: settings.passwordCost) else {
            throw HTTPError.internalError("password hashing failed")
        }
        guard try users.insert(username, passwordHash: hash, now: WallClock.nowSeconds()) else {
            throw HTTPError.conflict("user name \(username) is taken")
        }
        return .json(201) { w in
            w.beginObject()
            w.key("username")
            w.string(username)
            w.endObject()
        }
    }

    private func login(_ request: Request) throws -> Response {
        let body = try request.jsonObject()
        try body.rejectUnknownKeys(["username", "password"])
        let username = try body.string("username")
        let password = try body.string("password")
        // No stored password is longer: refuse without spending scrypt time on a huge input.
        guard password.unicodeScalars.count <= 128 else { throw HTTPError.unauthorized("wrong user name or password") }
        let stored = try users.passwordHash(username)
        let matches = PasswordHash.verify(Array(password.utf8), against: stored ?? decoyHash)
        guard stored != nil, matches else { throw HTTPError.unauthorized("wrong user name or password") }
        try keys.reloadIfChanged()
        let now = WallClock.nowSeconds()
        guard let token = issue(subject: username, now: now) else { throw HTTPError.internalError("signing failed") }
        return .json(200) { w in
            w.beginObject()
            w.key("access_token")
            w.string(token)
            w.key("token_type")
            w.string("Bearer")
            w.key("expires_in")
            w.number(Int(settings.tokenTTLSeconds))
            w.endObject()
        }
    }

    private func jwks() throws -> Response {
        try keys.reloadIfChanged()
        var response = Response.json(200, keys.jwks(nowMs: WallClock.nowMilliseconds()))
        // Verifiers refetch on an unknown kid anyway (SPEC §3); a short cache keeps rotations visible.
        response.headers.append(("cache-control", "max-age=60"))
        return response
    }

    /// A signed ES256 token for `subject` with `iss, aud, sub, iat, exp, scope` and the signer's `kid`.
    func issue(subject: String, now: Int64) -> String? {
        var claims = JSONWriter()
        claims.beginObject()
        claims.key("iss")
        claims.string(settings.issuer)
        claims.key("aud")
        claims.string(settings.audience)
        claims.key("sub")
        claims.string(subject)
        claims.key("iat")
        claims.number(Int(now))
        claims.key("exp")
        claims.number(Int(now + settings.tokenTTLSeconds))
        claims.key("scope")
        claims.string(settings.scope)
        claims.endObject()
        let signer = keys.current
        return TokenSigner.sign(
            claimsJSON: claims.bytes,
            algorithm: .es256,
            key: .privateKey(signer.key),
            kid: signer.kid
        )
    }

    /// `{"username","password"}` with issue 7's rules: name 3–32 of `[a-z0-9_.-]`, password 8–128 characters.
    static func credentials(_ request: Request) throws(HTTPError) -> (String, String) {
        let body = try request.jsonObject()
        try body.rejectUnknownKeys(["username", "password"])
        let username = try Username.validated(try body.string("username"), "\"username\"")
        let password = try body.string("password")
        guard (8...128).contains(password.unicodeScalars.count) else {
            throw .badRequest("\"password\" must be 8 to 128 characters")
        }
        return (username, password)
    }
}
