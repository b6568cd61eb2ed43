import MeshJSON

/// A JSON value compared by meaning: object member order ignored, numbers compared as doubles, keys compared
/// by their UTF-8 bytes (Swift's `String ==` would call "é" and "e\u{301}" one key).
public indirect enum JSONMeaning: Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string([UInt8])
    case array([JSONMeaning])
    case object([[UInt8]: JSONMeaning])

    public init(_ text: String) throws {
        var options = JSONReader.Options()
        options.rejectDuplicateKeys = false
        self.init(try JSONReader.parse(text, options: options))
    }

    public init(_ bytes: [UInt8]) throws {
        try self.init(String(decoding: bytes, as: UTF8.self))
    }

    public init(_ node: JSONNode) {
        switch node.value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .number(let n): self = .number(n.double)
        case .string(let s): self = .string(Array(s.utf8))
        case .array(let items): self = .array(items.map(JSONMeaning.init))
        case .object(let members):
            self = .object(
                Dictionary(members.map { (Array($0.key.utf8), JSONMeaning($0.value)) }, uniquingKeysWith: { $1 }))
        }
    }

    /// Member `key` of an object.
    public subscript(key: String) -> JSONMeaning? {
        if case .object(let members) = self { return members[Array(key.utf8)] }
        return nil
    }

    public var description: String {
        switch self {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .number(let d): "\(d)"
        case .string(let s): String(decoding: s, as: UTF8.self).debugDescription
        case .array(let items): "[" + items.map(\.description).joined(separator: ",") + "]"
        case .object(let members):
            "{"
                + members.keys.sorted { $0.lexicographicallyPrecedes($1) }.map {
                    "\(String(decoding: $0, as: UTF8.self).debugDescription):\(members[$0]!)"
                }.joined(separator: ",") + "}"
        }
    }
}
