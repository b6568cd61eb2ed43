import MeshPosix
import ServiceKit

/// relationship-service (SPEC §8): follow and unfollow as the gateway's `x-user-id` caller, and paged lists of
/// followers, following, and friends (mutual follows).
///
/// The service has no user table (no shared tables between backends), so any well-formed name can be followed
/// and an unknown user simply has empty lists.
public final class RelationshipService {
    static let defaultLimit = 50
    static let maxLimit = 100

    private let store: FollowStore
    private let profiles: ProfileLookup

    /// Opens (or creates) `relationships.sqlite3` under `dataDirectory`. With `profilesGRPC` (the sidecar's h2c
    /// listener), list answers carry each user's nickname and avatar from profile-service; without, the
    /// defaults.
    public init(dataDirectory: String, profilesGRPC: SocketAddress? = nil) throws(SQLiteError) {
        store = try FollowStore(path: dataDirectory + "/relationships.sqlite3")
        profiles = ProfileLookup(client: profilesGRPC.map { GRPCClient(target: $0) })
    }

    /// The service's routes.
    public func router() -> Router {
        var router = Router()
        router.add("PUT", "/follows/{user}", name: "follow") { [self] in try follow($0, on: true) }
        router.add("DELETE", "/follows/{user}", name: "unfollow") { [self] in try follow($0, on: false) }
        router.addDeferred("GET", "/followers/{user}", name: "followers") { [self] in try list(.followers, $0, $1) }
        router.addDeferred("GET", "/following/{user}", name: "following") { [self] in try list(.following, $0, $1) }
        router.addDeferred("GET", "/friends/{user}", name: "friends") { [self] in try list(.friends, $0, $1) }
        router.addCounter(profiles.degraded)
        return router
    }

    private func follow(_ request: Request, on: Bool) throws -> Response {
        let caller = try Username.caller(request)
        let target = try Username.validated(try request.parameter("user"), "user in path")
        guard caller != target else { throw HTTPError.badRequest("you cannot follow yourself") }
        let changed =
            on
            ? try store.follow(caller, target, now: WallClock.nowSeconds()) : try store.unfollow(caller, target)
        return .json(200) { w in
            w.beginObject()
            w.key("follower")
            w.string(caller)
            w.key("followee")
            w.string(target)
            w.key("following")
            w.bool(on)
            w.key("changed")
            w.bool(changed)
            w.endObject()
        }
    }

    /// A page of names, answered once their profiles are looked up (one GetProfiles call, never blocking the
    /// loop): `{"users": [names], "profiles": [{"user","nickname","avatar_url"}], "profiles_degraded", "next"}`.
    /// `users` stays as it was before profiles existed, for clients that only want names.
    private func list(_ kind: FollowStore.List, _ request: Request, _ responder: Responder) throws {
        let user = try Username.validated(try request.parameter("user"), "user in path")
        let (limit, after) = try Self.paging(request)
        let (names, more) = try store.page(kind, of: user, after: after, limit: limit)
        let next = more ? names.last : nil
        profiles.cards(for: names, request: request, responder: responder) { cards, degraded in
            responder.send(Self.render(cards, degraded: degraded, next: next))
        }
    }

    static func render(_ cards: [ProfileLookup.Card], degraded: Bool, next: String?) -> Response {
        .json(200) { w in
            w.beginObject()
            w.key("users")
            w.beginArray()
            for card in cards { w.string(card.user) }
            w.endArray()
            w.key("profiles")
            w.beginArray()
            for card in cards {
                w.beginObject()
                w.key("user")
                w.string(card.user)
                w.key("nickname")
                w.string(card.nickname)
                w.key("avatar_url")
                w.string(card.avatarURL)
                w.endObject()
            }
            w.endArray()
            w.key("profiles_degraded")
            w.bool(degraded)
            w.key("next")
            if let next { w.string(next) } else { w.null() }
            w.endObject()
        }
    }

    /// `?limit=` (1...100, default 50) and `?after=<username>` (exclusive; empty = from the start).
    static func paging(_ request: Request) throws(HTTPError) -> (Int, String) {
        var limit = defaultLimit
        if let text = request.queryValue("limit") {
            guard let value = Int(text), (1...maxLimit).contains(value) else {
                throw .badRequest("limit must be an integer from 1 to \(maxLimit)")
            }
            limit = value
        }
        var after = ""
        if let text = request.queryValue("after"), !text.isEmpty {
            after = try Username.validated(text, "after")
        }
        return (limit, after)
    }
}

/// `relationship-service`'s entry point.
public enum RelationshipServiceCommand {
    /// Runs the service with `arguments` (program name excluded); returns the exit code.
    public static func main(_ arguments: [String]) -> Int32 {
        ServiceRunner.run(
            service: "relationship-service", defaultListen: "127.0.0.1:9103", extraFlags: ["profiles-grpc": ""],
            arguments: arguments
        ) { options, _ in
            var target: SocketAddress?
            if let text = options.extra["profiles-grpc"], !text.isEmpty {
                guard let address = ServiceOptions.parseAddress(text) else {
                    throw ServiceUsageError(
                        message: "--profiles-grpc wants host:port with a numeric host, got '\(text)'")
                }
                target = address
            }
            return try RelationshipService(dataDirectory: options.dataDirectory, profilesGRPC: target).router()
        }
    }
}
