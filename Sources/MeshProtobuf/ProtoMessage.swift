/// A decoded message, generic over its type: field values keyed by field number, interpreted through the
/// `MessageDescriptor` named by `typeName`. Unknown fields are kept as the raw bytes they arrived as (tag
/// included, in arrival order) and written back unchanged after the known fields, as protobuf's C++ runtime does.
public struct ProtoMessage: Sendable, Equatable {
    /// Fully-qualified type name with a leading dot (`.pkg.Msg`).
    public var typeName: String
    /// Set fields by number. Implicit-presence (proto3, non-optional) fields holding their default are absent.
    public var fields: [Int32: ProtoField]
    /// Fields the descriptor does not know (and known fields that arrived with the wrong wire type), verbatim.
    public var unknownFields: [UInt8]

    /// An empty message of type `typeName`.
    public init(typeName: String, fields: [Int32: ProtoField] = [:], unknownFields: [UInt8] = []) {
        self.typeName = typeName
        self.fields = fields
        self.unknownFields = unknownFields
    }

    /// The field's value, or nil when unset.
    public subscript(number: Int32) -> ProtoField? {
        get { fields[number] }
        set { fields[number] = newValue }
    }
}

/// The value of one field: singular, repeated (packed or not, the descriptor decides) or a map.
public enum ProtoField: Sendable, Equatable {
    case single(ProtoValue)
    case repeated([ProtoValue])
    /// Map fields: one value per key (the last entry on the wire wins, as in protobuf). Written in key order.
    case map([ProtoMapKey: ProtoValue])
}

/// One scalar, string, bytes, enum or message value. The Swift type follows the protobuf type family: `sint32`,
/// `sfixed32` and `int32` are all `.int32`; the descriptor chooses the encoding.
public indirect enum ProtoValue: Sendable, Equatable {
    /// int32, sint32, sfixed32.
    case int32(Int32)
    /// int64, sint64, sfixed64.
    case int64(Int64)
    /// uint32, fixed32.
    case uint32(UInt32)
    /// uint64, fixed64.
    case uint64(UInt64)
    case float(Float)
    case double(Double)
    case bool(Bool)
    case string(String)
    case bytes([UInt8])
    /// An enum value by number (proto3 enums are open: numbers without a name are kept).
    case enumValue(Int32)
    case message(ProtoMessage)

    /// Floats compare by bit pattern, so NaN equals the same NaN and a decode → encode → decode round trip is
    /// checkable with `==`.
    public static func == (a: ProtoValue, b: ProtoValue) -> Bool {
        switch (a, b) {
        case (.int32(let x), .int32(let y)): x == y
        case (.int64(let x), .int64(let y)): x == y
        case (.uint32(let x), .uint32(let y)): x == y
        case (.uint64(let x), .uint64(let y)): x == y
        case (.float(let x), .float(let y)): x.bitPattern == y.bitPattern
        case (.double(let x), .double(let y)): x.bitPattern == y.bitPattern
        case (.bool(let x), .bool(let y)): x == y
        // Bytes, not Swift's canonical equivalence: protobuf strings "é" and "e\u{301}" are different values.
        case (.string(let x), .string(let y)): x.utf8.elementsEqual(y.utf8)
        case (.bytes(let x), .bytes(let y)): x == y
        case (.enumValue(let x), .enumValue(let y)): x == y
        case (.message(let x), .message(let y)): x == y
        default: false
        }
    }

    /// The default value of a field of `type` (zero, empty, false, first enum number 0); nil for messages, whose
    /// default is "absent".
    static func zero(of type: FieldType) -> ProtoValue? {
        switch type {
        case .int32, .sint32, .sfixed32: .int32(0)
        case .int64, .sint64, .sfixed64: .int64(0)
        case .uint32, .fixed32: .uint32(0)
        case .uint64, .fixed64: .uint64(0)
        case .float: .float(0)
        case .double: .double(0)
        case .bool: .bool(false)
        case .string: .string("")
        case .bytes: .bytes([])
        case .enum: .enumValue(0)
        case .message, .group: nil
        }
    }

    /// True for the proto3 default of a scalar (`-0.0` is not a default: protobuf writes it, its bits differ).
    var isDefault: Bool {
        switch self {
        case .int32(let v): v == 0
        case .int64(let v): v == 0
        case .uint32(let v): v == 0
        case .uint64(let v): v == 0
        case .float(let v): v.bitPattern == 0
        case .double(let v): v.bitPattern == 0
        case .bool(let v): !v
        case .string(let v): v.isEmpty
        case .bytes(let v): v.isEmpty
        case .enumValue(let v): v == 0
        case .message: false
        }
    }
}

/// A map key: protobuf allows integral types, bool and string as keys. String keys compare and hash by their
/// UTF-8 bytes, as in protobuf (Swift's `String ==` would merge "é" and "e\u{301}" into one entry).
public enum ProtoMapKey: Sendable, Hashable, Comparable {
    case int(Int64)
    case uint(UInt64)
    case bool(Bool)
    case string(String)

    public static func == (a: ProtoMapKey, b: ProtoMapKey) -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): x == y
        case (.uint(let x), .uint(let y)): x == y
        case (.bool(let x), .bool(let y)): x == y
        case (.string(let x), .string(let y)): x.utf8.elementsEqual(y.utf8)
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(rank)
        switch self {
        case .int(let v): hasher.combine(v)
        case .uint(let v): hasher.combine(v)
        case .bool(let v): hasher.combine(v)
        case .string(let v):
            for byte in v.utf8 { hasher.combine(byte) }
        }
    }

    /// Deterministic order (what protobuf's deterministic serialization uses): numbers numerically, false before
    /// true, strings by UTF-8 bytes.
    public static func < (a: ProtoMapKey, b: ProtoMapKey) -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): x < y
        case (.uint(let x), .uint(let y)): x < y
        case (.bool(let x), .bool(let y)): !x && y
        case (.string(let x), .string(let y)): x.utf8.lexicographicallyPrecedes(y.utf8)
        default: a.rank < b.rank
        }
    }

    private var rank: Int {
        switch self {
        case .int: 0
        case .uint: 1
        case .bool: 2
        case .string: 3
        }
    }
}
