import MeshJSON

/// Scalars from JSON: integers from numbers or decimal strings, floats from numbers or strings (`"NaN"`,
/// `"Infinity"`, `"-Infinity"`), bytes from either base64 alphabet, bools only as `true`/`false`.
extension JSONMessageParser {
    func scalar(
        _ node: JSONNode, _ type: FieldType, path: String, allowString: Bool = true
    ) throws(ProtobufError) -> ProtoValue {
        switch type {
        case .int32, .sint32, .sfixed32, .enum:
            return .int32(Int32(try integer(node, min: Int64(Int32.min), max: Int64(Int32.max), path, allowString)))
        case .int64, .sint64, .sfixed64:
            return .int64(try integer(node, min: .min, max: .max, path, allowString))
        case .uint32, .fixed32:
            return .uint32(UInt32(try integer(node, min: 0, max: Int64(UInt32.max), path, allowString)))
        case .uint64, .fixed64:
            return .uint64(try unsigned64(node, path, allowString))
        case .float:
            guard let n = try floatingNumber(node, path) else { return .float(Float(try floating(node, path))) }
            // Decimal → Float directly: going through Double can round twice and miss the float that the
            // printer's shortest text named ("3.4028235e+38" is Float.greatestFiniteMagnitude, yet above it as a
            // Double).
            guard let f = Float(n.text), f.isFinite else {
                throw .invalidJSON(path: path, message: "\(n.text) is out of range for float")
            }
            return .float(f)
        case .double:
            return .double(try floating(node, path))
        case .bool:
            guard let b = node.boolValue else { throw mismatch(node, "true or false", path) }
            return .bool(b)
        case .string:
            guard let s = node.stringValue else { throw mismatch(node, "a string", path) }
            return .string(s)
        case .bytes:
            guard let s = node.stringValue else { throw mismatch(node, "a base64 string", path) }
            guard let bytes = Base64.decode(s) else { throw .invalidJSON(path: path, message: "invalid base64") }
            return .bytes(bytes)
        case .message, .group:
            throw .valueMismatch(field: path, expected: "a scalar type")
        }
    }

    /// A map key from its JSON member name: integers in decimal, bools as `true`/`false`, strings as they are.
    func mapKey(_ text: String, _ type: FieldType, path: String) throws(ProtobufError) -> ProtoValue {
        let position = JSONPosition(line: 1, column: 1, offset: 0)
        switch type {
        case .string: return .string(text)
        case .bool:
            guard text == "true" || text == "false" else { throw .invalidJSON(path: path, message: "invalid bool key") }
            return .bool(text == "true")
        default:
            return try scalar(JSONNode(value: .string(text), position: position), type, path: path)
        }
    }

    func mismatch(_ node: JSONNode, _ expected: String, _ path: String) -> ProtobufError {
        .invalidJSON(path: path, message: "expected \(expected), found \(node.value.typeName)")
    }

    /// The JSON number in `node`, or the number written inside a string (`"12"`, `"1e3"`) when strings are allowed.
    private func number(_ node: JSONNode, _ path: String, _ allowString: Bool) throws(ProtobufError) -> JSONNumber {
        if case .number(let n) = node.value { return n }
        guard allowString, let text = node.stringValue else { throw mismatch(node, "a number", path) }
        // The string must hold exactly one JSON number (no spaces, no hex, no leading '+').
        guard let inner = try? JSONReader.parse(text), case .number(let n) = inner.value,
            text.utf8.first.map({ $0 == UInt8(ascii: "-") || ($0 >= 0x30 && $0 <= 0x39) }) == true,
            text.utf8.last.map({ $0 >= 0x30 && $0 <= 0x39 || $0 == UInt8(ascii: ".") }) == true
        else { throw .invalidJSON(path: path, message: "\(text.debugDescription) is not a number") }
        return n
    }

    private func integer(
        _ node: JSONNode, min: Int64, max: Int64, _ path: String, _ allowString: Bool
    ) throws(ProtobufError) -> Int64 {
        let n = try number(node, path, allowString)
        guard let v = n.int else {
            let what = n.double.rounded() == n.double ? "out of range" : "not an integer"
            throw .invalidJSON(path: path, message: "\(n.text) is \(what)")
        }
        guard v >= min && v <= max else { throw .invalidJSON(path: path, message: "\(n.text) is out of range") }
        return v
    }

    /// uint64 needs its own path: values above Int64.max are not in `JSONNumber.int`.
    private func unsigned64(_ node: JSONNode, _ path: String, _ allowString: Bool) throws(ProtobufError) -> UInt64 {
        let n = try number(node, path, allowString)
        if let v = n.int {
            guard v >= 0 else { throw .invalidJSON(path: path, message: "\(n.text) is out of range") }
            return UInt64(v)
        }
        if let v = UInt64(n.text) { return v }
        // 1.8e19: integral and below 2^64 after conversion.
        if n.double.rounded() == n.double, n.double >= 0, n.double < 18_446_744_073_709_551_616.0 {
            return UInt64(n.double)
        }
        let what = n.double.rounded() == n.double ? "out of range" : "not an integer"
        throw .invalidJSON(path: path, message: "\(n.text) is \(what)")
    }

    /// The number of a float field, or nil for the three special strings.
    private func floatingNumber(_ node: JSONNode, _ path: String) throws(ProtobufError) -> JSONNumber? {
        switch node.stringValue {
        case "NaN", "Infinity", "-Infinity": return nil
        default: return try number(node, path, true)
        }
    }

    private func floating(_ node: JSONNode, _ path: String) throws(ProtobufError) -> Double {
        switch node.stringValue {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: return try number(node, path, true).double
        }
    }
}
