/// Encodes a `ProtoMessage` to wire-format bytes, driven by a `DescriptorPool`.
///
/// The output is canonical and deterministic, matching protobuf C++/Python with deterministic serialization:
/// known fields in field-number order, repeated packable fields packed when the descriptor says so, map entries
/// sorted by key (each entry writes key and value), implicit-presence fields at their default omitted, then the
/// unknown fields exactly as they were read.
public struct ProtoEncoder: Sendable {
    public let pool: DescriptorPool

    /// An encoder for messages of `pool`.
    public init(pool: DescriptorPool) {
        self.pool = pool
    }

    /// The wire bytes of `message`.
    /// - Throws: `.unknownType` for a type name not in the pool, `.valueMismatch` for a field number the
    ///   descriptor lacks or a value of the wrong kind.
    public func encode(_ message: ProtoMessage) throws(ProtobufError) -> [UInt8] {
        var w = WireWriter()
        try write(message, to: &w)
        return w.bytes
    }

    private func write(_ message: ProtoMessage, to w: inout WireWriter) throws(ProtobufError) {
        let d = try pool.require(message.typeName)
        for number in message.fields.keys.sorted() {
            guard let field = d.field(number: number), let value = message.fields[number] else {
                throw .valueMismatch(field: "\(d.fullName).#\(number)", expected: "a field of the descriptor")
            }
            try write(value, field, to: &w, at: "\(d.fullName).\(field.name)")
        }
        w.bytes.append(contentsOf: message.unknownFields)
    }

    private func write(
        _ value: ProtoField, _ field: FieldDescriptor, to w: inout WireWriter, at: String
    ) throws(ProtobufError) {
        switch value {
        case .single(let v):
            if !field.hasPresence && v.isDefault { return }
            try writeTagged(v, field, to: &w, at: at)
        case .repeated(let list) where field.isPacked:
            guard !list.isEmpty else { return }
            var payload = WireWriter()
            for v in list { try ScalarCodec.write(v, as: field.type, to: &payload, field: at) }
            w.writeTag(field.number, .lengthDelimited)
            w.writeLengthDelimited(payload.bytes)
        case .repeated(let list):
            for v in list { try writeTagged(v, field, to: &w, at: at) }
        case .map(let map):
            let entryType = try pool.require(field.typeName)
            guard let keyField = entryType.field(number: 1), let valueField = entryType.field(number: 2) else {
                throw .valueMismatch(field: at, expected: "a map entry type")
            }
            for key in map.keys.sorted() {
                var entry = WireWriter()
                try writeTagged(ScalarCodec.keyValue(key, as: keyField.type), keyField, to: &entry, at: at)
                try writeTagged(map[key]!, valueField, to: &entry, at: at)
                w.writeTag(field.number, .lengthDelimited)
                w.writeLengthDelimited(entry.bytes)
            }
        }
    }

    /// Tag and value of one scalar or message.
    private func writeTagged(
        _ value: ProtoValue, _ field: FieldDescriptor, to w: inout WireWriter, at: String
    ) throws(ProtobufError) {
        guard field.type == .message else {
            w.writeTag(field.number, field.type.wireType)
            try ScalarCodec.write(value, as: field.type, to: &w, field: at)
            return
        }
        guard case .message(let sub) = value, sub.typeName == field.typeName else {
            throw .valueMismatch(field: at, expected: "a \(field.typeName) message")
        }
        var payload = WireWriter()
        try write(sub, to: &payload)
        w.writeTag(field.number, .lengthDelimited)
        w.writeLengthDelimited(payload.bytes)
    }
}
