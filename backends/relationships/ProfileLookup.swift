import ServiceKit

/// The nickname and avatar of each user in a list answer, from profile-service's `profile.v1.Profiles/GetProfiles`
/// — one call per answer, over h2c to the relationship service's meshgate sidecar, which carries the timeout,
/// retries, breaker and trace context (issue 16).
///
/// Degradation lives here, at the caller: whatever goes wrong (connection refused, a non-OK status — the
/// sidecar's UNAVAILABLE when its breaker is open —, the deadline), the list is answered anyway with the default
/// avatar and an empty nickname, a warning with the trace id is logged, and `profile_lookup_degraded_total`
/// counts it. Never an error for the list's caller.
final class ProfileLookup {
    /// The avatar of a user without one, and of everyone when the lookup failed: the same URL as the edge
    /// gateway's fallback for `GET /profiles/{user}` (routes.json).
    static let defaultAvatar = "/static/default.png"
    /// The call's own bound. The sidecar's route has the design's 3 s timeout (retries included); ours is a
    /// little longer so the sidecar's answer (UNAVAILABLE, DEADLINE_EXCEEDED) normally arrives first.
    static let timeoutMs = 3500

    /// What a list answer shows for one user.
    struct Card: Equatable {
        var user: String
        var nickname: String
        var avatarURL: String
    }

    let degraded = ServiceCounter(
        "profile_lookup_degraded_total",
        help: "List answers given with default profiles because the profile lookup failed."
    )
    /// Nil without `--profiles-grpc`: no lookup, every user gets the defaults.
    private let client: GRPCClient?

    init(client: GRPCClient?) {
        self.client = client
    }

    /// Default fields for `users`.
    static func defaults(_ users: [String]) -> [Card] {
        users.map { Card(user: $0, nickname: "", avatarURL: defaultAvatar) }
    }

    /// Looks up `users` and calls `done` on the loop thread with a card per user (in order) and whether the
    /// lookup failed. Without a client, or with no users, `done` runs at once.
    func cards(
        for users: [String],
        request: Request,
        responder: Responder,
        done: @escaping ([Card], _ degraded: Bool) -> Void
    ) {
        guard let client, !users.isEmpty else { return done(Self.defaults(users), false) }
        var metadata = [("traceparent", responder.outboundTraceparent)]
        if let id = request.header("x-request-id") { metadata.append(("x-request-id", id)) }
        client.unary(
            path: "/\(ProfilesV1.service)/GetProfiles", message: ProfilesV1.encodeUsers(users), metadata: metadata,
            timeoutMs: Self.timeoutMs, for: responder
        ) { [self] result in
            switch result {
            case .success(let bytes):
                do {
                    done(Self.merge(users, try ProfilesV1.decodeProfiles(bytes)), false)
                } catch {
                    done(degrade(users, responder, "malformed GetProfiles answer: \(error)"), true)
                }
            case .failure(let error):
                done(degrade(users, responder, "\(error.code.name): \(error.message)"), true)
            }
        }
    }

    /// Each user's profile if the answer has one, else the defaults; an empty avatar is the default avatar.
    static func merge(_ users: [String], _ profiles: [ProfilesV1.Profile]) -> [Card] {
        var byUser: [String: ProfilesV1.Profile] = [:]
        for profile in profiles { byUser[profile.user] = profile }
        return users.map { user in
            guard let profile = byUser[user] else { return Card(user: user, nickname: "", avatarURL: defaultAvatar) }
            let avatar = profile.avatarURL.isEmpty ? defaultAvatar : profile.avatarURL
            return Card(user: user, nickname: profile.nickname, avatarURL: avatar)
        }
    }

    private func degrade(_ users: [String], _ responder: Responder, _ why: String) -> [Card] {
        degraded.increment()
        responder.log.warn(
            "profile lookup failed; answering with default profiles",
            ["trace_id": .string(responder.traceID), "users": .int(users.count), "error": .string(why)]
        )
        return Self.defaults(users)
    }
}
