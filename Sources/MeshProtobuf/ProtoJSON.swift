import MeshJSON

/// The proto3 JSON mapping (protobuf.dev/programming-guides/json), both directions, driven by a
/// `DescriptorPool`.
///
/// Output: fields by `json_name` (or the proto name with `preserveProtoFieldNames`), implicit-presence fields at
/// their default omitted, 64-bit integers as strings, bytes as padded standard base64, enums by name (by number
/// when the number has no name), NaN/±Infinity as `"NaN"`/`"Infinity"`/`"-Infinity"`, maps as objects, unknown
/// fields dropped. Input: either field name, 64-bit integers as strings or numbers, 32-bit integers as numbers or
/// strings, floats as numbers or strings, bytes as standard or URL-safe base64 with or without padding, enums by
/// name or number, `null` as "field not set"; an unknown field is an error naming its JSON path unless
/// `ignoreUnknownFields` is set.
///
/// Well-known types with their special JSON form: `google.protobuf.Timestamp` (RFC 3339), `Duration` (`"1.5s"`),
/// the nine wrappers (`DoubleValue`, `FloatValue`, `Int64Value`, `UInt64Value`, `Int32Value`, `UInt32Value`,
/// `BoolValue`, `StringValue`, `BytesValue`: the wrapped value), `Struct` (object), `Value` (any JSON value),
/// `ListValue` (array), `NullValue` (`null`), `Empty` (`{}`), `FieldMask` (`"a.fooBar,b"`) and `Any`
/// (`{"@type": url, ...fields}`, or `{"@type": url, "value": ...}` when the payload has a special form; the type
/// URL's last `/`-segment must name a message in the pool). Every other type, `google.protobuf` or not, is an
/// ordinary message.
public struct ProtoJSON: Sendable {
    /// Switches of the mapping.
    public struct Options: Sendable {
        /// Parsing: skip members the message does not define instead of failing.
        public var ignoreUnknownFields = false
        /// Printing: use the .proto field names (`user_id`) instead of JSON names (`userId`).
        public var preserveProtoFieldNames = false
        /// Parsing: maximum nesting of JSON arrays and objects.
        public var maxDepth = 64

        /// The defaults above.
        public init() {}
    }

    public let pool: DescriptorPool
    public let options: Options

    /// A mapping for messages of `pool`.
    public init(pool: DescriptorPool, options: Options = .init()) {
        self.pool = pool
        self.options = options
    }

    /// `message` as compact JSON bytes.
    /// - Throws: `.invalidJSON` for values JSON cannot carry (a Timestamp out of range, a Value holding NaN),
    ///   `.unknownType`/`.valueMismatch` for a message that does not fit its descriptor.
    public func print(_ message: ProtoMessage) throws(ProtobufError) -> [UInt8] {
        var printer = JSONPrinter(pool: pool, protoNames: options.preserveProtoFieldNames)
        try printer.message(message, path: "")
        return printer.writer.bytes
    }

    /// Parses JSON bytes as a message of `typeName` (`.pkg.Msg`; the leading dot is optional).
    /// - Throws: `.jsonSyntax` for text that is not JSON, `.unknownJSONField`/`.invalidJSON` naming the JSON path
    ///   (`items[2].name`) of the first value that does not fit.
    public func parse(_ json: [UInt8], as typeName: String) throws(ProtobufError) -> ProtoMessage {
        var readerOptions = JSONReader.Options()
        readerOptions.maxDepth = options.maxDepth
        // Duplicates are checked here, by bytes (fields by number, map and Struct keys by UTF-8): the reader
        // compares keys as Swift Strings, which would call "é" and "e\u{301}" the same key.
        readerOptions.rejectDuplicateKeys = false
        let root: JSONNode
        do {
            root = try JSONReader.parse(json, options: readerOptions)
        } catch {
            throw .jsonSyntax(line: error.position.line, column: error.position.column, message: error.message)
        }
        let name = typeName.hasPrefix(".") ? typeName : "." + typeName
        let parser = JSONMessageParser(pool: pool, ignoreUnknown: options.ignoreUnknownFields)
        return try parser.message(root, type: try pool.require(name), path: "")
    }
}

/// Full names of the well-known types with a special JSON form.
enum WellKnown {
    static let timestamp = ".google.protobuf.Timestamp"
    static let duration = ".google.protobuf.Duration"
    static let structType = ".google.protobuf.Struct"
    static let value = ".google.protobuf.Value"
    static let listValue = ".google.protobuf.ListValue"
    static let nullValue = ".google.protobuf.NullValue"
    static let any = ".google.protobuf.Any"
    static let fieldMask = ".google.protobuf.FieldMask"
    static let wrappers: Set<String> = [
        ".google.protobuf.DoubleValue", ".google.protobuf.FloatValue", ".google.protobuf.Int64Value",
        ".google.protobuf.UInt64Value", ".google.protobuf.Int32Value", ".google.protobuf.UInt32Value",
        ".google.protobuf.BoolValue", ".google.protobuf.StringValue", ".google.protobuf.BytesValue",
    ]

    /// True for the types whose JSON is not a plain object of their fields.
    static func isSpecial(_ name: String) -> Bool {
        name == timestamp || name == duration || name == structType || name == value || name == listValue
            || name == any || name == fieldMask || wrappers.contains(name)
    }
}

/// `path` extended by an object member (`a.b`) or an array index / map key (`a[2]`, `a["k"]`).
func jsonPath(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }
func jsonPath(_ path: String, index: Int) -> String { path + "[\(index)]" }
func jsonPath(_ path: String, mapKey: String) -> String { path + "[" + JSONWriter.escaped(mapKey) + "]" }

extension DescriptorPool {
    /// The message an `Any` type URL names: its last `/`-segment (`type.googleapis.com/pkg.Msg` → `.pkg.Msg`),
    /// as the reference runtimes resolve it.
    func anyType(_ url: String, path: String) throws(ProtobufError) -> MessageDescriptor {
        // Bytes, not Characters: a combining mark after '/' would fuse with it.
        let last = url.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).last ?? []
        let name = String(decoding: last, as: UTF8.self)
        guard !name.isEmpty, let d = message(named: name) else {
            throw .invalidJSON(path: path, message: "Any: type URL \(url.debugDescription) names no known message")
        }
        return d
    }
}

/// FieldMask paths ↔ their JSON form (lowerCamelCase, joined by commas), with the reference runtimes' rules on
/// ASCII letters. Bytes, not Characters: a combining mark after `_` would otherwise fuse with it, and
/// non-ASCII case mappings (`ß` → `SS`) do not round-trip.
enum FieldMaskText {
    /// `foo_bar.baz` → `fooBar.baz`; nil for paths JSON cannot carry: uppercase ASCII, `_` not followed by a
    /// lowercase ASCII letter, or a `,` (the JSON form's separator).
    static func camel(_ path: String) -> String? {
        var out: [UInt8] = []
        var afterUnderscore = false
        for b in path.utf8 {
            if isUpper(b) || b == UInt8(ascii: ",") { return nil }
            if afterUnderscore {
                guard isLower(b) else { return nil }
                out.append(b - 32)
                afterUnderscore = false
            } else if b == UInt8(ascii: "_") {
                afterUnderscore = true
            } else {
                out.append(b)
            }
        }
        return afterUnderscore ? nil : String(decoding: out, as: UTF8.self)
    }

    /// `fooBar.baz` → `foo_bar.baz`; nil when the JSON path already holds `_`.
    static func snake(_ path: String) -> String? {
        var out: [UInt8] = []
        for b in path.utf8 {
            if b == UInt8(ascii: "_") { return nil }
            if isUpper(b) {
                out.append(UInt8(ascii: "_"))
                out.append(b + 32)
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isUpper(_ b: UInt8) -> Bool { b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") }
    private static func isLower(_ b: UInt8) -> Bool { b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") }
}
