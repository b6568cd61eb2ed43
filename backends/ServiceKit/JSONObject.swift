import MeshJSON

/// A request body's top-level JSON object with typed, strict field access: every mistake is a 400 that
/// names the field (`"username" must be a string, got number`).
public struct JSONObject: Sendable {
    /// The members in document order (duplicate keys were already rejected by the reader).
    public let members: [JSONMember]

    /// Wraps parsed members.
    public init(members: [JSONMember]) {
        self.members = members
    }

    /// The value of `key`, or nil when absent.
    public subscript(key: String) -> JSONNode? {
        members.first { $0.key == key }?.value
    }

    /// Rejects keys not in `allowed` (a typo must not be silently ignored).
    public func rejectUnknownKeys(_ allowed: Set<String>) throws(HTTPError) {
        for member in members where !allowed.contains(member.key) {
            throw .badRequest("unknown field \"\(member.key)\"")
        }
    }

    /// A required string member.
    public func string(_ key: String) throws(HTTPError) -> String {
        guard let node = self[key] else { throw .badRequest("missing field \"\(key)\"") }
        guard let value = node.stringValue else {
            throw .badRequest("\"\(key)\" must be a string, got \(node.value.typeName)")
        }
        return value
    }

    /// An optional string member: nil when absent or `null`.
    public func optionalString(_ key: String) throws(HTTPError) -> String? {
        guard let node = self[key], !node.isNull else { return nil }
        guard let value = node.stringValue else {
            throw .badRequest("\"\(key)\" must be a string or null, got \(node.value.typeName)")
        }
        return value
    }

    /// An optional object member: nil when absent or `null`.
    public func optionalObject(_ key: String) throws(HTTPError) -> JSONValue? {
        guard let node = self[key], !node.isNull else { return nil }
        guard node.objectValue != nil else {
            throw .badRequest("\"\(key)\" must be an object or null, got \(node.value.typeName)")
        }
        return node.value
    }
}
