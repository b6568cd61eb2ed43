/// Decodes wire-format bytes into a `ProtoMessage`, driven by a `DescriptorPool`.
///
/// Semantics follow protobuf's parsers: the last value of a singular scalar wins, a singular message that
/// appears twice is merged, repeated scalars are accepted packed or unpacked whatever the descriptor says, map
/// entries with a repeated key keep the last value, a field of a oneof clears its siblings. Fields the descriptor
/// does not know, known fields with a wire type that does not fit, and groups (wire types 3/4, deprecated and
/// unsupported here) are kept verbatim in `unknownFields`. Any malformed input ends in a `ProtobufError`.
///
/// Simplifications against protobuf's proto2 rules (meshgate's services are proto3): every enum is open (an
/// unnamed number is kept in the field, not moved to the unknown fields), `required` is not checked, and
/// `string` fields must be UTF-8 in proto2 files too. Extensions other than `google.api.http` are unknown
/// fields.
public struct ProtoDecoder: Sendable {
    /// Limits for hostile input.
    public struct Options: Sendable {
        /// Maximum nesting of messages and groups (protobuf C++ allows 100; 64 bounds stack use well below any
        /// thread's stack).
        public var maxDepth = 64

        /// The defaults above.
        public init() {}
    }

    public let pool: DescriptorPool
    public let options: Options

    /// A decoder for messages of `pool`.
    public init(pool: DescriptorPool, options: Options = .init()) {
        self.pool = pool
        self.options = options
    }

    /// Decodes `bytes` as a message of type `typeName` (`.pkg.Msg`; the leading dot is optional).
    public func decode(_ bytes: [UInt8], as typeName: String) throws(ProtobufError) -> ProtoMessage {
        let name = typeName.hasPrefix(".") ? typeName : "." + typeName
        var message = ProtoMessage(typeName: name)
        var reader = WireReader(bytes)
        try merge(&reader, into: &message, descriptor: try pool.require(name), depth: 0)
        return message
    }

    /// Reads fields until `r` ends, merging them into `message`.
    func merge(
        _ r: inout WireReader, into message: inout ProtoMessage, descriptor d: MessageDescriptor, depth: Int
    ) throws(ProtobufError) {
        while !r.isAtEnd {
            let start = r.index
            let tag = try r.readTag()
            guard let field = d.field(number: tag.number), Self.accepts(field, tag.wireType) else {
                try r.skip(
                    tag.wireType, number: tag.number, remaining: options.maxDepth - depth, limit: options.maxDepth)
                message.unknownFields.append(contentsOf: r.bytes[start..<r.index])
                continue
            }
            try readField(field, tag.wireType, &r, into: &message, descriptor: d, depth: depth)
        }
    }

    /// Whether a known field can be read from this wire type; if not, protobuf treats the field as unknown.
    static func accepts(_ field: FieldDescriptor, _ wireType: WireType) -> Bool {
        if field.type == .group { return false }
        if wireType == field.type.wireType { return true }
        return field.label == .repeated && field.type.isPackable && wireType == .lengthDelimited
    }

    private func readField(
        _ field: FieldDescriptor, _ wireType: WireType, _ r: inout WireReader, into message: inout ProtoMessage,
        descriptor d: MessageDescriptor, depth: Int
    ) throws(ProtobufError) {
        let at = "\(d.fullName).\(field.name)"
        if field.isMap {
            let (key, value) = try readMapEntry(field, &r, depth: depth)
            var map: [ProtoMapKey: ProtoValue] = [:]
            if case .map(let existing) = message.fields[field.number] { map = existing }
            map[key] = value
            message.fields[field.number] = .map(map)
        } else if field.label == .repeated {
            var list: [ProtoValue] = []
            if case .repeated(let existing) = message.fields[field.number] { list = existing }
            message.fields[field.number] = nil  // keeps `list` uniquely referenced while appending
            if wireType == .lengthDelimited && field.type.isPackable {
                try readPacked(field, &r, into: &list, at: at)
            } else {
                list.append(try readValue(field, &r, existing: nil, depth: depth))
            }
            // An empty packed run adds nothing; storing `[]` would differ from the re-encoded message.
            message.fields[field.number] = list.isEmpty ? nil : .repeated(list)
        } else {
            var existing: ProtoMessage? = nil
            if case .single(.message(let m)) = message.fields[field.number] { existing = m }
            let value = try readValue(field, &r, existing: existing, depth: depth)
            if let oneof = field.oneofIndex { Self.clearOneof(oneof, except: field.number, in: &message, d) }
            message.fields[field.number] = field.hasPresence || !value.isDefault ? .single(value) : nil
        }
    }

    /// One value (scalar or message) of a non-map field. A message is merged into `existing` when given.
    private func readValue(
        _ field: FieldDescriptor, _ r: inout WireReader, existing: ProtoMessage?, depth: Int
    ) throws(ProtobufError) -> ProtoValue {
        guard field.type == .message else {
            return try ScalarCodec.read(field.type, from: &r, field: field.name)
        }
        let at = r.index
        let range = try r.readLengthDelimited()
        guard depth + 1 <= options.maxDepth else { throw .depthLimitExceeded(offset: at, limit: options.maxDepth) }
        var sub = r.limited(to: range)
        var message = existing ?? ProtoMessage(typeName: field.typeName)
        try merge(&sub, into: &message, descriptor: try pool.require(field.typeName), depth: depth + 1)
        return .message(message)
    }

    /// A packed run: the payload is the values back to back, with no tags.
    private func readPacked(
        _ field: FieldDescriptor, _ r: inout WireReader, into list: inout [ProtoValue], at: String
    ) throws(ProtobufError) {
        var sub = r.limited(to: try r.readLengthDelimited())
        while !sub.isAtEnd {
            do {
                list.append(try ScalarCodec.read(field.type, from: &sub, field: field.name))
            } catch .varintTooLong(let offset) {
                throw .varintTooLong(offset: offset)
            } catch {
                throw .malformedPacked(field: at)
            }
        }
    }

    /// A map entry is a message with key = 1 and value = 2; a missing key or value is that type's default.
    private func readMapEntry(
        _ field: FieldDescriptor, _ r: inout WireReader, depth: Int
    ) throws(ProtobufError) -> (ProtoMapKey, ProtoValue) {
        let entryType = try pool.require(field.typeName)
        guard case .message(let entry) = try readValue(field, &r, existing: nil, depth: depth),
            let keyField = entryType.field(number: 1), let valueField = entryType.field(number: 2)
        else { throw .malformedDescriptor("\(entryType.fullName): not a map entry") }
        var key = ProtoValue.zero(of: keyField.type) ?? .string("")
        if case .single(let k) = entry.fields[1] { key = k }
        var value = ProtoValue.zero(of: valueField.type) ?? .message(ProtoMessage(typeName: valueField.typeName))
        if case .single(let v) = entry.fields[2] { value = v }
        return (try ScalarCodec.mapKey(key, field: field.name), value)
    }

    /// Setting one member of a oneof clears the others.
    static func clearOneof(_ index: Int, except number: Int32, in message: inout ProtoMessage, _ d: MessageDescriptor) {
        for other in d.fields where other.oneofIndex == index && other.number != number {
            message.fields[other.number] = nil
        }
    }
}
