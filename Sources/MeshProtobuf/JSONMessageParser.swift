import MeshJSON

/// JSON tree → message for `ProtoJSON.parse` (the mapping's input rules are listed there). Recursion follows the
/// JSON tree, whose depth `JSONReader` has already bounded.
struct JSONMessageParser {
    let pool: DescriptorPool
    let ignoreUnknown: Bool

    func message(_ node: JSONNode, type d: MessageDescriptor, path: String) throws(ProtobufError) -> ProtoMessage {
        if WellKnown.isSpecial(d.fullName) { return try wellKnown(node, type: d, path: path) }
        guard let members = node.objectValue else {
            throw .invalidJSON(
                path: path, message: "expected an object for \(d.fullName), found \(node.value.typeName)")
        }
        var m = ProtoMessage(typeName: d.fullName)
        var seen: Set<Int32> = []
        var oneofSet: [Int: String] = [:]
        for member in members {
            let at = jsonPath(path, member.key)
            guard let field = d.field(named: member.key) else {
                if ignoreUnknown { continue }
                throw .unknownJSONField(path: at)
            }
            guard seen.insert(field.number).inserted else {
                throw .invalidJSON(path: at, message: "field \(field.name) given twice")
            }
            guard let value = try fieldValue(member.value, field, path: at) else { continue }
            if let oneof = field.oneofIndex, !field.proto3Optional {
                if let other = oneofSet[oneof] {
                    throw .invalidJSON(path: at, message: "oneof \(d.oneofs[oneof]) already set by \(other)")
                }
                oneofSet[oneof] = member.key
            }
            // Defaults of implicit-presence fields and empty containers are "not set", as after a binary decode.
            switch value {
            case .single(let v) where !field.hasPresence && v.isDefault: continue
            case .repeated(let list) where list.isEmpty: continue
            case .map(let map) where map.isEmpty: continue
            default: m.fields[field.number] = value
            }
        }
        return m
    }

    /// The field's value, or nil for `null` (field not set; except `Value` and `NullValue`, where null is data).
    func fieldValue(_ node: JSONNode, _ field: FieldDescriptor, path: String) throws(ProtobufError) -> ProtoField? {
        if node.isNull && !Self.nullIsData(field) { return nil }
        if field.isMap { return .map(try map(node, field, path: path)) }
        if field.label == .repeated {
            guard let items = node.arrayValue else {
                throw .invalidJSON(path: path, message: "expected an array, found \(node.value.typeName)")
            }
            var list: [ProtoValue] = []
            list.reserveCapacity(items.count)
            for (i, item) in items.enumerated() {
                let at = jsonPath(path, index: i)
                if item.isNull && !Self.nullIsData(field) {
                    throw .invalidJSON(path: at, message: "null is not allowed in a repeated field")
                }
                list.append(try value(item, field, path: at))
            }
            return .repeated(list)
        }
        return .single(try value(node, field, path: path))
    }

    /// `google.protobuf.Value` reads `null` as a value, and the `NullValue` enum is spelled `null`.
    static func nullIsData(_ field: FieldDescriptor) -> Bool {
        field.typeName == WellKnown.value || field.typeName == WellKnown.nullValue
    }

    /// A map from a JSON object; keys are strings and convert to the key type (`"12"`, `"true"`).
    private func map(
        _ node: JSONNode, _ field: FieldDescriptor, path: String
    ) throws(ProtobufError) -> [ProtoMapKey: ProtoValue] {
        guard let members = node.objectValue else {
            throw .invalidJSON(path: path, message: "expected an object for a map, found \(node.value.typeName)")
        }
        let entry = try pool.require(field.typeName)
        guard let keyField = entry.field(number: 1), let valueField = entry.field(number: 2) else {
            throw .valueMismatch(field: path, expected: "a map entry type")
        }
        var map: [ProtoMapKey: ProtoValue] = [:]
        for member in members {
            let at = jsonPath(path, mapKey: member.key)
            let key = try ScalarCodec.mapKey(try mapKey(member.key, keyField.type, path: at), field: at)
            if member.value.isNull && !Self.nullIsData(valueField) {
                throw .invalidJSON(path: at, message: "null is not allowed as a map value")
            }
            guard map.updateValue(try value(member.value, valueField, path: at), forKey: key) == nil else {
                throw .invalidJSON(path: at, message: "map key given twice")
            }
        }
        return map
    }

    /// One value of `field`'s type (never a repeated container).
    func value(_ node: JSONNode, _ field: FieldDescriptor, path: String) throws(ProtobufError) -> ProtoValue {
        switch field.type {
        case .message, .group:
            return .message(try message(node, type: try pool.require(field.typeName), path: path))
        case .enum:
            return .enumValue(try enumNumber(node, field, path: path))
        default:
            return try scalar(node, field.type, path: path)
        }
    }

    /// An enum by name or by number; `null` is `NULL_VALUE` for `google.protobuf.NullValue`.
    private func enumNumber(_ node: JSONNode, _ field: FieldDescriptor, path: String) throws(ProtobufError) -> Int32 {
        if node.isNull && field.typeName == WellKnown.nullValue { return 0 }
        if let name = node.stringValue {
            // A number in a string ("5") is accepted like a bare number, as the Python and C++ parsers do.
            if let n = Int32(name) { return n }
            guard let number = pool.enumType(named: field.typeName)?.number(for: name) else {
                throw .invalidJSON(path: path, message: "\(name.debugDescription) is not a value of \(field.typeName)")
            }
            return number
        }
        guard case .int32(let n) = try scalar(node, .int32, path: path, allowString: false) else {
            throw .invalidJSON(path: path, message: "expected an enum name or number")
        }
        return n
    }
}
