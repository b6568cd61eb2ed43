/// Scalar values ↔ wire bytes for each `FieldType` (encoding spec, "Scalar Value Types"). Shared by the
/// decoder, the encoder and packed repeated fields.
enum ScalarCodec {
    /// Reads one value of `type` (not message or group). `proto3` turns on UTF-8 validation of strings.
    /// - Throws: wire errors for truncated input, `.invalidUTF8` naming `field`.
    static func read(
        _ type: FieldType, from r: inout WireReader, field: String
    ) throws(ProtobufError) -> ProtoValue {
        switch type {
        case .int32: return .int32(Int32(truncatingIfNeeded: try r.readVarint()))
        case .int64: return .int64(Int64(bitPattern: try r.readVarint()))
        case .uint32: return .uint32(UInt32(truncatingIfNeeded: try r.readVarint()))
        case .uint64: return .uint64(try r.readVarint())
        case .sint32: return .int32(ZigZag.decode32(UInt32(truncatingIfNeeded: try r.readVarint())))
        case .sint64: return .int64(ZigZag.decode64(try r.readVarint()))
        case .bool: return .bool(try r.readVarint() != 0)
        case .enum: return .enumValue(Int32(truncatingIfNeeded: try r.readVarint()))
        case .fixed32: return .uint32(try r.readFixed32())
        case .sfixed32: return .int32(Int32(bitPattern: try r.readFixed32()))
        case .float: return .float(Float(bitPattern: try r.readFixed32()))
        case .fixed64: return .uint64(try r.readFixed64())
        case .sfixed64: return .int64(Int64(bitPattern: try r.readFixed64()))
        case .double: return .double(Double(bitPattern: try r.readFixed64()))
        case .bytes:
            let range = try r.readLengthDelimited()
            return .bytes(Array(r.bytes[range]))
        case .string:
            let range = try r.readLengthDelimited()
            // proto3 §"string": must contain UTF-8; the C++ and Python runtimes reject anything else at parse.
            guard let text = String(validating: r.bytes[range], as: UTF8.self) else { throw .invalidUTF8(field: field) }
            return .string(text)
        case .message, .group:
            throw .valueMismatch(field: field, expected: "a scalar type")
        }
    }

    /// Appends the payload (no tag) of `value` as `type`.
    /// - Throws: `.valueMismatch` when the value's Swift type does not belong to `type`'s family.
    static func write(
        _ value: ProtoValue, as type: FieldType, to w: inout WireWriter, field: String
    ) throws(ProtobufError) {
        switch (type, value) {
        // int32 and enums are sign-extended to 64 bits: a negative value is always 10 bytes on the wire.
        case (.int32, .int32(let v)), (.enum, .enumValue(let v)): w.writeVarint(UInt64(bitPattern: Int64(v)))
        case (.int64, .int64(let v)): w.writeVarint(UInt64(bitPattern: v))
        case (.uint32, .uint32(let v)): w.writeVarint(UInt64(v))
        case (.uint64, .uint64(let v)): w.writeVarint(v)
        case (.sint32, .int32(let v)): w.writeVarint(UInt64(ZigZag.encode32(v)))
        case (.sint64, .int64(let v)): w.writeVarint(ZigZag.encode64(v))
        case (.bool, .bool(let v)): w.writeVarint(v ? 1 : 0)
        case (.fixed32, .uint32(let v)): w.writeFixed32(v)
        case (.sfixed32, .int32(let v)): w.writeFixed32(UInt32(bitPattern: v))
        case (.float, .float(let v)): w.writeFixed32(v.bitPattern)
        case (.fixed64, .uint64(let v)): w.writeFixed64(v)
        case (.sfixed64, .int64(let v)): w.writeFixed64(UInt64(bitPattern: v))
        case (.double, .double(let v)): w.writeFixed64(v.bitPattern)
        case (.string, .string(let v)): w.writeLengthDelimited(v.utf8)
        case (.bytes, .bytes(let v)): w.writeLengthDelimited(v)
        default: throw .valueMismatch(field: field, expected: "\(type)")
        }
    }

    /// The map key for a key value (`.valueMismatch` for a type protobuf does not allow as a key).
    static func mapKey(_ value: ProtoValue, field: String) throws(ProtobufError) -> ProtoMapKey {
        switch value {
        case .int32(let v): return .int(Int64(v))
        case .int64(let v): return .int(v)
        case .uint32(let v): return .uint(UInt64(v))
        case .uint64(let v): return .uint(v)
        case .bool(let v): return .bool(v)
        case .string(let v): return .string(v)
        default: throw .valueMismatch(field: field, expected: "a map key")
        }
    }

    /// The key as a value of the entry's key type (inverse of `mapKey`; truncation cannot happen for keys that
    /// `mapKey` produced from the same type).
    static func keyValue(_ key: ProtoMapKey, as type: FieldType) -> ProtoValue {
        switch (key, type) {
        case (.int(let v), .int32), (.int(let v), .sint32), (.int(let v), .sfixed32):
            .int32(Int32(truncatingIfNeeded: v))
        case (.int(let v), _): .int64(v)
        case (.uint(let v), .uint32), (.uint(let v), .fixed32): .uint32(UInt32(truncatingIfNeeded: v))
        case (.uint(let v), _): .uint64(v)
        case (.bool(let v), _): .bool(v)
        case (.string(let v), _): .string(v)
        }
    }
}
