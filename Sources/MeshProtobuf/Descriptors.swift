/// `FieldDescriptorProto.Type` (descriptor.proto); the raw values are the descriptor's numbers.
public enum FieldType: Int32, Sendable {
    case double = 1, float = 2, int64 = 3, uint64 = 4, int32 = 5, fixed64 = 6, fixed32 = 7, bool = 8
    case string = 9, group = 10, message = 11, bytes = 12, uint32 = 13, `enum` = 14
    case sfixed32 = 15, sfixed64 = 16, sint32 = 17, sint64 = 18

    /// The wire type a single (unpacked) value of this type uses.
    public var wireType: WireType {
        switch self {
        case .double, .fixed64, .sfixed64: .fixed64
        case .float, .fixed32, .sfixed32: .fixed32
        case .string, .bytes, .message: .lengthDelimited
        case .group: .startGroup
        default: .varint
        }
    }

    /// True for the numeric scalar types that may be packed (everything but string, bytes, message, group).
    public var isPackable: Bool {
        switch self {
        case .string, .bytes, .message, .group: false
        default: true
        }
    }
}

/// `FieldDescriptorProto.Label`.
public enum FieldLabel: Int32, Sendable {
    case optional = 1, required = 2, repeated = 3
}

/// One field of a message, as read from a `FieldDescriptorProto`.
public struct FieldDescriptor: Sendable, Equatable {
    /// The field's number on the wire.
    public var number: Int32
    /// The name as written in the .proto file (`user_id`).
    public var name: String
    /// The JSON name (`userId`): protoc fills it in; computed with the lowerCamelCase rule when absent.
    public var jsonName: String
    public var type: FieldType
    public var label: FieldLabel
    /// The fully-qualified message or enum type (`.pkg.Msg`) for message, group and enum fields; empty otherwise.
    public var typeName: String
    /// Index into the message's `oneofs`, nil when the field is not in a oneof (synthetic proto3 `optional`
    /// oneofs included: check `proto3Optional`).
    public var oneofIndex: Int?
    /// proto3 `optional`: the field has explicit presence through a synthetic oneof.
    public var proto3Optional: Bool
    /// The `[packed = ...]` option when written; nil means the syntax default (proto3 packs, proto2 does not).
    public var packedOption: Bool?
    /// True when the file is proto3 (drives packing and presence defaults).
    public var isProto3: Bool
    /// Set by the pool: the field is a `map<K, V>` (a repeated message whose type is a map entry).
    public var isMap: Bool = false

    /// True when a repeated field of this type is written packed.
    public var isPacked: Bool {
        label == .repeated && type.isPackable && (packedOption ?? isProto3)
    }

    /// True when the field remembers whether it was set (protobuf "explicit presence"): messages, oneof members,
    /// proto3 `optional` and every singular proto2 field. Implicit-presence fields omit their default value.
    public var hasPresence: Bool {
        if label == .repeated { return false }
        return type == .message || type == .group || oneofIndex != nil || proto3Optional || !isProto3
    }
}

/// A message type, as read from a `DescriptorProto` (nested types are separate entries in the pool).
public struct MessageDescriptor: Sendable, Equatable {
    /// Fully-qualified name with a leading dot (`.pkg.Outer.Inner`).
    public var fullName: String
    /// Fields in declaration order.
    public var fields: [FieldDescriptor]
    /// The names of the oneofs, indexed by `FieldDescriptor.oneofIndex`.
    public var oneofs: [String]
    /// `MessageOptions.map_entry`: the synthetic `XxxEntry` type of a map field (key = 1, value = 2).
    public var isMapEntry: Bool
    /// Field position in `fields` by number, for decoding.
    public var indexByNumber: [Int32: Int] = [:]
    /// Field position in `fields` by JSON name and by proto name, for JSON parsing.
    public var indexByName: [String: Int] = [:]

    /// The field with that number, or nil.
    public func field(number: Int32) -> FieldDescriptor? {
        indexByNumber[number].map { fields[$0] }
    }

    /// The field with that JSON name or proto name, or nil.
    public func field(named name: String) -> FieldDescriptor? {
        indexByName[name].map { fields[$0] }
    }
}

/// An enum type, as read from an `EnumDescriptorProto`.
public struct EnumDescriptor: Sendable, Equatable {
    /// Fully-qualified name with a leading dot.
    public var fullName: String
    /// Values in declaration order (aliases included).
    public var values: [(name: String, number: Int32)]

    /// The first name declared for `number` (protobuf's choice when aliases exist), or nil.
    public func name(for number: Int32) -> String? {
        values.first { $0.number == number }?.name
    }

    /// The number of the value called `name`, or nil.
    public func number(for name: String) -> Int32? {
        values.first { $0.name == name }?.number
    }

    public static func == (a: EnumDescriptor, b: EnumDescriptor) -> Bool {
        a.fullName == b.fullName && a.values.elementsEqual(b.values) { $0.name == $1.name && $0.number == $1.number }
    }
}

/// One RPC of a service.
public struct MethodDescriptor: Sendable, Equatable {
    /// The method's simple name (`GetProfile`).
    public var name: String
    /// The gRPC path, `/pkg.Service/Method`.
    public var path: String
    /// Fully-qualified request and response message names (`.pkg.Req`).
    public var inputType: String
    public var outputType: String
    public var clientStreaming: Bool
    public var serverStreaming: Bool
    /// The `google.api.http` option, when the method has one.
    public var http: HttpRule?
}

/// A service and its methods.
public struct ServiceDescriptor: Sendable, Equatable {
    /// Fully-qualified name with a leading dot (`.pkg.Service`).
    public var fullName: String
    public var methods: [MethodDescriptor]
}

/// protoc's default JSON name: `foo_bar_baz` → `fooBarBaz` (an underscore capitalises the next letter and is
/// dropped). Used only when a descriptor lacks `json_name`.
func defaultJSONName(_ name: String) -> String {
    var out = ""
    var upper = false
    for c in name {
        if c == "_" {
            upper = true
        } else if upper {
            out += c.uppercased()
            upper = false
        } else {
            out.append(c)
        }
    }
    return out
}
