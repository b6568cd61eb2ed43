import MeshJSON
import ServiceKit

/// profile-service (SPEC §8): `GET /profiles/{user}` for anyone the gateway lets through, `PUT /profiles/{user}`
/// only by the user named in the gateway's `x-user-id` header; and `profile.v1.Profiles` over gRPC (h2c on the
/// same port, `ProfileGRPC.swift`).
public final class ProfileService {
    /// Limits of issue 7.
    static let maxNicknameCharacters = 64
    static let maxAvatarURLBytes = 2048
    static let maxPreferencesBytes = 16 * 1024

    let store: ProfileStore

    /// Opens (or creates) `profiles.sqlite3` under `dataDirectory`.
    public init(dataDirectory: String) throws(SQLiteError) {
        store = try ProfileStore(path: dataDirectory + "/profiles.sqlite3")
    }

    /// The service's routes.
    public func router() -> Router {
        var router = Router()
        router.add("GET", "/profiles/{user}", name: "profile-read") { [self] request in try read(request) }
        router.add("PUT", "/profiles/{user}", name: "profile-write") { [self] request in try write(request) }
        addGRPC(to: &router)
        return router
    }

    func read(_ request: Request) throws -> Response {
        let user = try Username.validated(try request.parameter("user"), "user in path")
        guard let profile = try store.profile(user) else { throw HTTPError.notFound("no profile for \(user)") }
        return Self.render(profile)
    }

    func write(_ request: Request) throws -> Response {
        let user = try Username.validated(try request.parameter("user"), "user in path")
        let caller = try Username.caller(request)
        guard caller == user else { throw HTTPError.forbidden("you may only change your own profile") }
        let profile = try Self.decode(request, user: user)
        try store.save(profile, now: WallClock.nowSeconds())
        return Self.render(profile)
    }

    /// Validates a PUT body: `{"nickname"?, "avatar_url"?, "preferences"?}`; absent fields take their empty value
    /// (PUT replaces the whole profile, RFC 9110 §9.3.4).
    static func decode(_ request: Request, user: String) throws(HTTPError) -> Profile {
        let body = try request.jsonObject()
        try body.rejectUnknownKeys(["nickname", "avatar_url", "preferences"])
        let nickname = try body.optionalString("nickname") ?? ""
        guard nickname.unicodeScalars.count <= maxNicknameCharacters else {
            throw .badRequest("\"nickname\" must be at most \(maxNicknameCharacters) characters")
        }
        guard !nickname.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .badRequest("\"nickname\" must not contain control characters")
        }
        let avatar = try body.optionalString("avatar_url")
        if let avatar { try validateURL(avatar) }
        var preferences = JSONWriter()
        if let object = try body.optionalObject("preferences") {
            preferences.value(object)
        } else {
            preferences.raw("{}")
        }
        guard preferences.bytes.count <= maxPreferencesBytes else {
            throw .badRequest("\"preferences\" must serialize to at most \(maxPreferencesBytes) bytes")
        }
        return Profile(user: user, nickname: nickname, avatarURL: avatar, preferencesJSON: preferences.text)
    }

    /// An absolute http(s) URL with a host, no whitespace or control characters, at most 2048 bytes.
    static func validateURL(_ url: String) throws(HTTPError) {
        guard url.utf8.count <= maxAvatarURLBytes else {
            throw .badRequest("\"avatar_url\" must be at most \(maxAvatarURLBytes) bytes")
        }
        let lower = url.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") {
            rest = lower.dropFirst(8)
        } else if lower.hasPrefix("http://") {
            rest = lower.dropFirst(7)
        } else {
            throw .badRequest("\"avatar_url\" must be an http or https URL")
        }
        let host = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !host.isEmpty, !host.hasPrefix(":"), !host.hasPrefix("@") else {
            throw .badRequest("\"avatar_url\" must have a host")
        }
        guard url.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
            throw .badRequest("\"avatar_url\" must not contain spaces or control characters")
        }
    }

    static func render(_ profile: Profile) -> Response {
        .json(200) { w in
            w.beginObject()
            w.key("user")
            w.string(profile.user)
            w.key("nickname")
            w.string(profile.nickname)
            w.key("avatar_url")
            if let url = profile.avatarURL { w.string(url) } else { w.null() }
            w.key("preferences")
            w.raw(profile.preferencesJSON)
            w.endObject()
        }
    }
}

/// `profile-service`'s entry point.
public enum ProfileServiceCommand {
    /// Runs the service with `arguments` (program name excluded); returns the exit code.
    public static func main(_ arguments: [String]) -> Int32 {
        ServiceRunner.run(service: "profile-service", defaultListen: "127.0.0.1:9102", arguments: arguments) {
            options,
            _ in
            try ProfileService(dataDirectory: options.dataDirectory).router()
        }
    }
}
