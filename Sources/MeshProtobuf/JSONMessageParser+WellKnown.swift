import MeshJSON

/// The well-known types' special JSON forms on input (see `ProtoJSON` for the list).
extension JSONMessageParser {
    func wellKnown(_ node: JSONNode, type d: MessageDescriptor, path: String) throws(ProtobufError) -> ProtoMessage {
        var m = ProtoMessage(typeName: d.fullName)
        switch d.fullName {
        case WellKnown.timestamp, WellKnown.duration:
            guard let text = node.stringValue else { throw mismatch(node, "a string", path) }
            let isTimestamp = d.fullName == WellKnown.timestamp
            guard let (seconds, nanos) = isTimestamp ? TimeText.parseTimestamp(text) : TimeText.parseDuration(text)
            else {
                let form = isTimestamp ? "an RFC 3339 timestamp" : "a duration like \"1.5s\""
                throw .invalidJSON(path: path, message: "\(text.debugDescription) is not \(form) in range")
            }
            if seconds != 0 { m.fields[1] = .single(.int64(seconds)) }
            if nanos != 0 { m.fields[2] = .single(.int32(nanos)) }
        case WellKnown.structType:
            m.fields[1] = try structFields(node, path: path)
        case WellKnown.listValue:
            m.fields[1] = try listValues(node, path: path)
        case WellKnown.value:
            return try jsonValue(node, path: path)
        case WellKnown.fieldMask:
            guard let text = node.stringValue else { throw mismatch(node, "a string", path) }
            var paths: [ProtoValue] = []
            // As the reference runtimes: "" is no paths, and empty segments ("a,,b") are kept. Split the bytes,
            // not Characters: a combining mark after ',' fuses with it into one Character.
            let comma = UInt8(ascii: ",")
            let parts = text.isEmpty ? [] : text.utf8.split(separator: comma, omittingEmptySubsequences: false)
            for part in parts {
                let segment = String(decoding: part, as: UTF8.self)
                guard let snake = FieldMaskText.snake(segment) else {
                    throw .invalidJSON(path: path, message: "FieldMask path \(segment.debugDescription) holds '_'")
                }
                paths.append(.string(snake))
            }
            if !paths.isEmpty { m.fields[1] = .repeated(paths) }
        case WellKnown.any:
            return try any(node, path: path)
        default:
            // A wrapper is its field 1, written bare; the default is kept (presence is the wrapper's point).
            guard let field = d.field(number: 1) else { throw .valueMismatch(field: path, expected: "a wrapper") }
            let v = try value(node, field, path: path)
            if !v.isDefault { m.fields[1] = .single(v) }
        }
        return m
    }

    /// Any from `{"@type": url, ...}`: the payload is parsed as the named type (from `"value"` when that type
    /// has a special form, else from the other members) and stored encoded.
    private func any(_ node: JSONNode, path: String) throws(ProtobufError) -> ProtoMessage {
        guard let members = node.objectValue else { throw mismatch(node, "an object", path) }
        var m = ProtoMessage(typeName: WellKnown.any)
        if members.isEmpty { return m }
        guard let url = node["@type"]?.stringValue else {
            throw .invalidJSON(path: jsonPath(path, "@type"), message: "Any needs a string \"@type\"")
        }
        let d = try pool.anyType(url, path: jsonPath(path, "@type"))
        let sub: ProtoMessage
        if WellKnown.isSpecial(d.fullName) {
            guard let inner = node["value"] else {
                throw .invalidJSON(path: jsonPath(path, "value"), message: "Any of \(d.fullName) needs a \"value\"")
            }
            sub = try message(inner, type: d, path: jsonPath(path, "value"))
        } else {
            let rest = JSONNode(value: .object(members.filter { $0.key != "@type" }), position: node.position)
            sub = try message(rest, type: d, path: path)
        }
        m.fields[1] = .single(.string(url))
        let payload = try ProtoEncoder(pool: pool).encode(sub)
        if !payload.isEmpty { m.fields[2] = .single(.bytes(payload)) }
        return m
    }

    /// Struct.fields (map<string, Value>) from an object.
    private func structFields(_ node: JSONNode, path: String) throws(ProtobufError) -> ProtoField? {
        guard let members = node.objectValue else { throw mismatch(node, "an object", path) }
        if members.isEmpty { return nil }
        var map: [ProtoMapKey: ProtoValue] = [:]
        for member in members {
            let at = jsonPath(path, mapKey: member.key)
            let v = try jsonValue(member.value, path: at)
            guard map.updateValue(.message(v), forKey: .string(member.key)) == nil else {
                throw .invalidJSON(path: at, message: "key given twice")
            }
        }
        return .map(map)
    }

    /// ListValue.values (repeated Value) from an array.
    private func listValues(_ node: JSONNode, path: String) throws(ProtobufError) -> ProtoField? {
        guard let items = node.arrayValue else { throw mismatch(node, "an array", path) }
        if items.isEmpty { return nil }
        var list: [ProtoValue] = []
        for (i, item) in items.enumerated() {
            list.append(.message(try jsonValue(item, path: jsonPath(path, index: i))))
        }
        return .repeated(list)
    }

    /// Any JSON value as a `google.protobuf.Value` (its oneof `kind`: 1 null, 2 number, 3 string, 4 bool,
    /// 5 struct, 6 list).
    private func jsonValue(_ node: JSONNode, path: String) throws(ProtobufError) -> ProtoMessage {
        var m = ProtoMessage(typeName: WellKnown.value)
        switch node.value {
        case .null: m.fields[1] = .single(.enumValue(0))
        case .number(let n): m.fields[2] = .single(.double(n.double))
        case .string(let s): m.fields[3] = .single(.string(s))
        case .bool(let b): m.fields[4] = .single(.bool(b))
        case .object:
            var s = ProtoMessage(typeName: WellKnown.structType)
            s.fields[1] = try structFields(node, path: path)
            m.fields[5] = .single(.message(s))
        case .array:
            var l = ProtoMessage(typeName: WellKnown.listValue)
            l.fields[1] = try listValues(node, path: path)
            m.fields[6] = .single(.message(l))
        }
        return m
    }
}
