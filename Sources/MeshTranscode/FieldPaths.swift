import MeshProtobuf

/// Field paths (`shelf.id`) resolved against descriptors, and setting a text value at such a path inside a
/// `ProtoMessage`, creating the intermediate messages.
struct FieldPaths {
    let pool: DescriptorPool

    static let wrappers: Set<String> = [
        ".google.protobuf.DoubleValue", ".google.protobuf.FloatValue", ".google.protobuf.Int64Value",
        ".google.protobuf.UInt64Value", ".google.protobuf.Int32Value", ".google.protobuf.UInt32Value",
        ".google.protobuf.BoolValue", ".google.protobuf.StringValue", ".google.protobuf.BytesValue",
    ]

    /// The fields along `path` (each name is the proto name or the JSON name), or nil when a name is missing,
    /// a non-last step is not a singular message, or the last step is a map or a message other than a wrapper
    /// (text cannot fill those).
    func resolve(_ path: [String], in type: String) -> [FieldDescriptor]? {
        var fields: [FieldDescriptor] = []
        var current = pool.message(named: type)
        for (i, name) in path.enumerated() {
            guard let message = current, let field = message.field(named: name) else { return nil }
            fields.append(field)
            if i == path.count - 1 {
                if field.isMap { return nil }
                if field.type == .message && !Self.wrappers.contains(field.typeName) { return nil }
                if field.type == .group { return nil }
            } else {
                guard field.type == .message, field.label != .repeated else { return nil }
                current = pool.message(named: field.typeName)
            }
        }
        return fields.isEmpty ? nil : fields
    }

    /// True when every step of `path` names a field, whatever its kind: tells "no such field" apart from
    /// "a field text cannot fill" when `resolve` fails.
    func exists(_ path: [String], in type: String) -> Bool {
        var current = pool.message(named: type)
        for name in path {
            guard let field = current?.field(named: name) else { return false }
            current = field.type == .message ? pool.message(named: field.typeName) : nil
        }
        return true
    }

    /// Sets `text`, converted to the last field's type, at `fields` inside `message`. A repeated last field
    /// gets the value appended; a singular one is overwritten. Setting a oneof member clears its siblings.
    func set(
        _ text: String, at fields: ArraySlice<FieldDescriptor>, in message: inout ProtoMessage, name: String
    ) throws(TranscodeError) {
        guard let field = fields.first else { return }
        clearOneofSiblings(of: field, in: &message)
        if fields.count > 1 {
            var child = ProtoMessage(typeName: field.typeName)
            if case .single(.message(let existing)) = message.fields[field.number] { child = existing }
            try set(text, at: fields.dropFirst(), in: &child, name: name)
            message.fields[field.number] = .single(.message(child))
            return
        }
        let value = try leafValue(text, field, name: name)
        if field.label == .repeated {
            var list: [ProtoValue] = []
            if case .repeated(let existing) = message.fields[field.number] { list = existing }
            list.append(value)
            message.fields[field.number] = .repeated(list)
        } else {
            message.fields[field.number] = .single(value)
        }
    }

    /// The value of a scalar, enum or wrapper field.
    private func leafValue(_ text: String, _ field: FieldDescriptor, name: String) throws(TranscodeError) -> ProtoValue
    {
        var target = field
        if field.type == .message {
            // A wrapper's payload is its field 1 (`value`).
            guard let inner = pool.message(named: field.typeName)?.field(number: 1) else {
                throw .invalidValue(parameter: name, value: text, message: "not a scalar field")
            }
            target = inner
        }
        switch TextValues.value(text, for: target, pool: pool) {
        case .failure(let f): throw .invalidValue(parameter: name, value: text, message: f.message)
        case .success(let v):
            guard field.type == .message else { return v }
            var wrapper = ProtoMessage(typeName: field.typeName)
            wrapper.fields[1] = .single(v)
            return .message(wrapper)
        }
    }

    /// protobuf keeps at most one member of a oneof; the last one set wins (proto3 `optional` is a synthetic
    /// oneof of one field and has no siblings).
    private func clearOneofSiblings(of field: FieldDescriptor, in message: inout ProtoMessage) {
        guard let oneof = field.oneofIndex, !field.proto3Optional,
            let type = pool.message(named: message.typeName)
        else { return }
        for other in type.fields where other.oneofIndex == oneof && other.number != field.number {
            message.fields[other.number] = nil
        }
    }
}
