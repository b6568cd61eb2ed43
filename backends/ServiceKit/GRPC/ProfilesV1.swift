import MeshProtobuf

/// The messages of `profile.v1.Profiles` (backends/protos/profile/v1/profile.proto), written by hand on
/// MeshProtobuf's wire reader and writer: both sides of the contract (profile-service answers, relationship-service
/// asks) share this one file, and `ProfileProtoTests` checks it against protoc's own encoding.
///
/// Decoding follows proto3: unknown fields are skipped, a repeated field may come in pieces, a scalar seen twice
/// keeps the last value.
public enum ProfilesV1 {
    /// The gRPC service name (the `:path` is `/profile.v1.Profiles/<Method>`).
    public static let service = "profile.v1.Profiles"

    /// `profile.v1.Profile`.
    public struct Profile: Sendable, Equatable {
        public var user: String
        public var nickname: String
        /// Empty when the user set none.
        public var avatarURL: String

        public init(user: String, nickname: String, avatarURL: String) {
            self.user = user
            self.nickname = nickname
            self.avatarURL = avatarURL
        }
    }

    // MARK: - Encoding

    /// `GetProfileRequest{user}` and friends: one string field 1.
    public static func encodeUser(_ user: String) -> [UInt8] {
        var w = WireWriter()
        putString(&w, 1, user)
        return w.bytes
    }

    /// `GetProfilesRequest{repeated string users = 1}`.
    public static func encodeUsers(_ users: [String]) -> [UInt8] {
        var w = WireWriter()
        for user in users { putString(&w, 1, user, always: true) }
        return w.bytes
    }

    /// `Profile`.
    public static func encode(_ profile: Profile) -> [UInt8] {
        var w = WireWriter()
        putString(&w, 1, profile.user)
        putString(&w, 2, profile.nickname)
        putString(&w, 3, profile.avatarURL)
        return w.bytes
    }

    /// `GetProfilesResponse{repeated Profile profiles = 1}`.
    public static func encode(_ profiles: [Profile]) -> [UInt8] {
        var w = WireWriter()
        for profile in profiles {
            w.writeTag(1, .lengthDelimited)
            w.writeLengthDelimited(encode(profile))
        }
        return w.bytes
    }

    /// proto3: a string at its default (empty) is not written, except as an element of a repeated field.
    private static func putString(_ w: inout WireWriter, _ number: Int32, _ value: String, always: Bool = false) {
        guard always || !value.isEmpty else { return }
        w.writeTag(number, .lengthDelimited)
        w.writeLengthDelimited(Array(value.utf8))
    }

    // MARK: - Decoding

    /// The strings of field 1 (both `GetProfileRequest.user`, last one wins, and `GetProfilesRequest.users`).
    public static func decodeStrings(_ bytes: [UInt8]) throws(ProtobufError) -> [String] {
        var strings: [String] = []
        try walk(WireReader(bytes)) { (number, reader, range) throws(ProtobufError) in
            if number == 1 { strings.append(try string(reader, range)) }
        }
        return strings
    }

    /// `Profile`.
    public static func decodeProfile(_ bytes: [UInt8]) throws(ProtobufError) -> Profile {
        try decodeProfile(WireReader(bytes))
    }

    /// `GetProfilesResponse`.
    public static func decodeProfiles(_ bytes: [UInt8]) throws(ProtobufError) -> [Profile] {
        var profiles: [Profile] = []
        try walk(WireReader(bytes)) { (number, reader, range) throws(ProtobufError) in
            if number == 1 { profiles.append(try decodeProfile(reader.limited(to: range))) }
        }
        return profiles
    }

    private static func decodeProfile(_ reader: WireReader) throws(ProtobufError) -> Profile {
        var profile = Profile(user: "", nickname: "", avatarURL: "")
        try walk(reader) { (number, reader, range) throws(ProtobufError) in
            switch number {
            case 1: profile.user = try string(reader, range)
            case 2: profile.nickname = try string(reader, range)
            case 3: profile.avatarURL = try string(reader, range)
            default: break
            }
        }
        return profile
    }

    /// Calls `field` with each length-delimited field's number and byte range; every other field is skipped.
    /// A known number with another wire type is skipped too (a lenient reader, as the proto3 runtimes are not:
    /// they fail — but this contract has only length-delimited fields, so such bytes are not ours anyway).
    private static func walk(
        _ start: WireReader,
        _ field: (Int32, WireReader, Range<Int>) throws(ProtobufError) -> Void
    ) throws(ProtobufError) {
        var reader = start
        while !reader.isAtEnd {
            let tag = try reader.readTag()
            guard tag.wireType == .lengthDelimited else {
                try reader.skip(tag.wireType, number: tag.number, remaining: 8, limit: 8)
                continue
            }
            let range = try reader.readLengthDelimited()
            try field(tag.number, reader, range)
        }
    }

    /// A string field's bytes; invalid UTF-8 is an error (proto3 strings must be UTF-8).
    private static func string(_ reader: WireReader, _ range: Range<Int>) throws(ProtobufError) -> String {
        guard let text = String(validating: reader.bytes[range], as: UTF8.self) else {
            throw .invalidUTF8(field: "string at byte \(range.lowerBound)")
        }
        return text
    }
}
