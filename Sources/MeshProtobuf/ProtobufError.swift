/// Everything that can go wrong in MeshProtobuf: reading the wire format, reading a descriptor set, encoding a
/// message value that does not fit its descriptor, and the proto3 JSON mapping. Decoders never trap on input;
/// every malformed byte or JSON value ends in one of these cases.
public enum ProtobufError: Error, Sendable, Equatable, CustomStringConvertible {
    // MARK: - Wire format

    /// The input ends inside a tag, a varint, a fixed-width value or a length-delimited payload.
    case truncated(offset: Int)
    /// A varint runs over 10 bytes, or its tenth byte carries bits beyond 64.
    case varintTooLong(offset: Int)
    /// A length prefix points past the end of the enclosing buffer.
    case lengthOutOfBounds(offset: Int, length: UInt64)
    /// Wire type 6 or 7 (undefined by the encoding spec).
    case invalidWireType(offset: Int, wireType: UInt8)
    /// Field number 0 or above 2^29 - 1.
    case invalidFieldNumber(offset: Int, number: UInt64)
    /// An end-group tag without a start, or a group ending with another field's number.
    case unmatchedEndGroup(offset: Int)
    /// Messages (or groups) nested deeper than `ProtoDecoder.Options.maxDepth`.
    case depthLimitExceeded(offset: Int, limit: Int)
    /// A `string` field whose bytes are not UTF-8 (proto3 requires UTF-8).
    case invalidUTF8(field: String)
    /// A packed repeated field whose payload does not split into whole elements.
    case malformedPacked(field: String)

    // MARK: - Descriptors and values

    /// A message or enum name that the descriptor pool does not hold (`.pkg.Msg`).
    case unknownType(String)
    /// A descriptor set that parses as protobuf but breaks descriptor rules (missing name, bad field type, ...).
    case malformedDescriptor(String)
    /// A message value holds something its descriptor cannot encode (a string in an int32 field, ...).
    case valueMismatch(field: String, expected: String)

    // MARK: - JSON mapping

    /// The JSON text itself is not JSON (position from `MeshJSON`).
    case jsonSyntax(line: Int, column: Int, message: String)
    /// An object member that the message does not define (`path` is where it is, e.g. `items[2].colour`).
    case unknownJSONField(path: String)
    /// A JSON value that does not map to the field at `path`.
    case invalidJSON(path: String, message: String)

    /// One line for logs and test failures.
    public var description: String {
        switch self {
        case .truncated(let o): "truncated input at byte \(o)"
        case .varintTooLong(let o): "varint longer than 10 bytes at byte \(o)"
        case .lengthOutOfBounds(let o, let n): "length \(n) at byte \(o) runs past the end of the buffer"
        case .invalidWireType(let o, let t): "invalid wire type \(t) at byte \(o)"
        case .invalidFieldNumber(let o, let n): "invalid field number \(n) at byte \(o)"
        case .unmatchedEndGroup(let o): "unmatched end-group tag at byte \(o)"
        case .depthLimitExceeded(let o, let l): "nesting deeper than \(l) at byte \(o)"
        case .invalidUTF8(let f): "field \(f): string is not valid UTF-8"
        case .malformedPacked(let f): "field \(f): packed payload does not split into whole elements"
        case .unknownType(let n): "unknown type \(n)"
        case .malformedDescriptor(let m): "malformed descriptor: \(m)"
        case .valueMismatch(let f, let e): "field \(f): value is not \(e)"
        case .jsonSyntax(let l, let c, let m): "\(l):\(c): \(m)"
        case .unknownJSONField(let p): "\(p): unknown field"
        case .invalidJSON(let p, let m): "\(p.isEmpty ? "(root)" : p): \(m)"
        }
    }
}
