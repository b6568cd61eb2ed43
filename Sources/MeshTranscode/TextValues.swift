import MeshProtobuf

/// Converts the text of a path variable or query parameter to a field's value, with gRPC-Gateway's rules
/// (`runtime.Bool`, `runtime.Int32`, ..., `runtime.Bytes`): bools as Go's `strconv.ParseBool` spells them,
/// integers in decimal, floats as decimal or `NaN`/`Inf`, enums by name or number, bytes as standard base64
/// then URL-safe base64 (padding optional), strings unchanged.
enum TextValues {
    /// The value for a scalar or enum field, or why `text` does not convert.
    static func value(_ text: String, for field: FieldDescriptor, pool: DescriptorPool) -> Result<ProtoValue, Failure> {
        func parsed<T>(_ v: T?, _ wrap: (T) -> ProtoValue, _ what: String) -> Result<ProtoValue, Failure> {
            v.map { .success(wrap($0)) } ?? .failure(Failure("not \(what)"))
        }
        switch field.type {
        case .int32, .sint32, .sfixed32: return parsed(Int32(text), { .int32($0) }, "a 32-bit integer")
        case .int64, .sint64, .sfixed64: return parsed(Int64(text), { .int64($0) }, "a 64-bit integer")
        case .uint32, .fixed32: return parsed(UInt32(text), { .uint32($0) }, "an unsigned 32-bit integer")
        case .uint64, .fixed64: return parsed(UInt64(text), { .uint64($0) }, "an unsigned 64-bit integer")
        case .float: return parsed(decimal(text).flatMap { Float($0) }, { .float($0) }, "a number")
        case .double: return parsed(decimal(text).flatMap { Double($0) }, { .double($0) }, "a number")
        case .bool: return parsed(bool(text), { .bool($0) }, "a bool")
        case .string: return .success(.string(text))
        case .bytes: return parsed(base64(text), { .bytes($0) }, "base64")
        case .enum:
            if let n = Int32(text) { return .success(.enumValue(n)) }
            let number = pool.enumType(named: field.typeName)?.number(for: text)
            return parsed(number, { .enumValue($0) }, "a value of \(field.typeName.dropFirst())")
        case .message, .group:
            return .failure(Failure("a message field cannot be set from text"))
        }
    }

    struct Failure: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    /// `text` unless it is a hexadecimal float (`0x10`), which Swift reads and Go's `ParseFloat` refuses
    /// without a `p` exponent; decimal only keeps both gateways' answers the same.
    static func decimal(_ text: String) -> String? {
        text.utf8.contains { $0 | 0x20 == UInt8(ascii: "x") } ? nil : text
    }

    /// Go's `strconv.ParseBool`.
    static func bool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": true
        case "0", "f", "F", "FALSE", "false", "False": false
        default: nil
        }
    }

    /// Standard or URL-safe base64 (RFC 4648 §4, §5), padding optional: the JSON mapping's own rule.
    static func base64(_ text: String) -> [UInt8]? { Base64.decode(text) }
}

/// `a=1&b=x%20y&a=2` → `[("a", "1"), ("b", "x y"), ("a", "2")]`, in order (repeated keys fill repeated fields
/// in that order). Form encoding, as Go's `url.ParseQuery`: `+` is a space, a key without `=` has the value "".
enum QueryString {
    static func parse(_ query: String) -> Result<[(name: String, value: String)], TranscodeError> {
        var out: [(name: String, value: String)] = []
        for piece in query.split(separator: "&") {
            let eq = piece.firstIndex(of: "=")
            let rawName = eq.map { piece[..<$0] } ?? piece
            let rawValue = eq.map { piece[piece.index(after: $0)...] } ?? ""
            guard let name = PercentDecoding.decode(rawName, plusIsSpace: true),
                let value = PercentDecoding.decode(rawValue, plusIsSpace: true)
            else {
                return .failure(.invalidValue(parameter: String(rawName), value: String(piece), message: "bad escape"))
            }
            if name.isEmpty { continue }
            out.append((name, value))
        }
        return .success(out)
    }
}
