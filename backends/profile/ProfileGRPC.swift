import MeshTranscode
import ServiceKit

/// `profile.v1.Profiles` (backends/protos/profile/v1/profile.proto) over h2c on the service's port: the same
/// store as `GET /profiles/{user}`, for relationship-service (through its meshgate sidecar) and for the edge
/// gateway's REST→gRPC transcoding.
extension ProfileService {
    /// Most users one `GetProfiles` call may ask for: a page of relationship-service's lists (its `limit` is at
    /// most 100), so one list answer is one call.
    static let maxBatch = 100

    /// Adds the gRPC methods to `router`.
    func addGRPC(to router: inout Router) {
        router.addGRPC(service: ProfilesV1.service, method: "GetProfile") { [self] in try getProfile($0) }
        router.addGRPC(service: ProfilesV1.service, method: "GetProfiles") { [self] in try getProfiles($0) }
    }

    /// NOT_FOUND for a user without a profile, INVALID_ARGUMENT for a malformed name.
    func getProfile(_ request: GRPCRequest) throws -> [UInt8] {
        let users = try decode(request)
        let user = try Self.validUser(users.last ?? "")
        guard let profile = try lookup(user) else { throw GRPCError(.notFound, "no profile for \(user)") }
        return ProfilesV1.encode(profile)
    }

    /// The profiles of the requested users that have one, in request order, each once; users without a profile
    /// are left out (the caller knows whom it asked for and fills in its defaults).
    func getProfiles(_ request: GRPCRequest) throws -> [UInt8] {
        let users = try decode(request)
        guard users.count <= Self.maxBatch else {
            throw GRPCError(.invalidArgument, "at most \(Self.maxBatch) users per call, got \(users.count)")
        }
        var seen = Set<String>()
        var profiles: [ProfilesV1.Profile] = []
        for name in users where seen.insert(name).inserted {
            if let profile = try lookup(try Self.validUser(name)) { profiles.append(profile) }
        }
        return ProfilesV1.encode(profiles)
    }

    private func decode(_ request: GRPCRequest) throws(GRPCError) -> [String] {
        do {
            return try ProfilesV1.decodeStrings(request.message)
        } catch {
            throw GRPCError(.invalidArgument, "malformed request message: \(error)")
        }
    }

    private static func validUser(_ name: String) throws(GRPCError) -> String {
        do {
            return try Username.validated(name, "user")
        } catch {
            throw GRPCError(.invalidArgument, error.detail)
        }
    }

    private func lookup(_ user: String) throws(GRPCError) -> ProfilesV1.Profile? {
        do {
            guard let stored = try store.profile(user) else { return nil }
            return ProfilesV1.Profile(user: user, nickname: stored.nickname, avatarURL: stored.avatarURL ?? "")
        } catch {
            throw GRPCError(.unavailable, "profile store: \(error)")
        }
    }
}
