/// Where a token starts in the source bytes. `line` and `column` are 1-based; `column` counts bytes from the start
/// of the line (not characters), which is what editors show for ASCII and what `offset` arithmetic needs.
public struct JSONPosition: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// 1-based line number; only `\n` starts a new line.
    public var line: Int
    /// 1-based byte column within the line.
    public var column: Int
    /// 0-based byte offset from the start of the buffer.
    public var offset: Int

    /// Creates a position; no validation, callers pass what they measured.
    public init(line: Int, column: Int, offset: Int) {
        self.line = line
        self.column = column
        self.offset = offset
    }

    /// `line:column`.
    public var description: String { "\(line):\(column)" }
}

/// A JSON number, kept as written so that a writer can reproduce it exactly.
public struct JSONNumber: Sendable, Equatable {
    /// The number's text exactly as it appeared in the document (RFC 8259 §6 grammar).
    public var text: String
    /// The nearest `Double`; always finite (the reader rejects numbers that overflow a `Double`).
    public var double: Double
    /// The value as an `Int64` when it is integral and fits: integer literals that fit `Int64`, and literals with a
    /// fraction or exponent whose `Double` is integral and exactly representable (`1e3` → 1000, `2.0` → 2).
    public var int: Int64?

    /// Creates a number from already-validated parts; the reader uses `init(text:)` semantics.
    public init(text: String, double: Double, int: Int64?) {
        self.text = text
        self.double = double
        self.int = int
    }

    /// Builds a number from an integer (used by code that constructs JSON values by hand).
    public init(_ value: Int64) {
        self.init(text: String(value), double: Double(value), int: value)
    }
}

/// A parsed JSON value. Arrays and objects hold `JSONNode`s so every element keeps its position.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONNode])
    /// Members in document order (the reader rejects duplicate keys by default).
    case object([JSONMember])

    /// The JSON type name used in error messages: `null`, `boolean`, `number`, `string`, `array`, `object`.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// One `"key": value` pair of an object.
public struct JSONMember: Sendable, Equatable {
    /// The decoded key.
    public var key: String
    /// Where the key's opening quote is.
    public var keyPosition: JSONPosition
    /// The member's value.
    public var value: JSONNode

    /// Creates a member.
    public init(key: String, keyPosition: JSONPosition, value: JSONNode) {
        self.key = key
        self.keyPosition = keyPosition
        self.value = value
    }
}

/// A value together with the position of its first byte.
public struct JSONNode: Sendable, Equatable {
    /// The value.
    public var value: JSONValue
    /// Where the value starts (its first byte: a quote, bracket, digit, sign or letter).
    public var position: JSONPosition

    /// Creates a node.
    public init(value: JSONValue, position: JSONPosition) {
        self.value = value
        self.position = position
    }

    /// The first member with that key; nil when absent or when this node is not an object.
    public subscript(key: String) -> JSONNode? {
        guard case .object(let members) = value else { return nil }
        for member in members where member.key == key { return member.value }
        return nil
    }

    /// The string, or nil if this is not a string.
    public var stringValue: String? {
        if case .string(let s) = value { return s }
        return nil
    }

    /// The integer, or nil if this is not a number with an integral `Int64` value (see `JSONNumber.int`).
    public var int64Value: Int64? {
        if case .number(let n) = value { return n.int }
        return nil
    }

    /// The number as a `Double`, or nil if this is not a number.
    public var doubleValue: Double? {
        if case .number(let n) = value { return n.double }
        return nil
    }

    /// The boolean, or nil if this is not `true`/`false`.
    public var boolValue: Bool? {
        if case .bool(let b) = value { return b }
        return nil
    }

    /// The elements, or nil if this is not an array.
    public var arrayValue: [JSONNode]? {
        if case .array(let a) = value { return a }
        return nil
    }

    /// The members in document order, or nil if this is not an object.
    public var objectValue: [JSONMember]? {
        if case .object(let o) = value { return o }
        return nil
    }

    /// True for `null`.
    public var isNull: Bool {
        if case .null = value { return true }
        return false
    }
}

/// A syntax error with the position of the offending byte.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, in words a config author understands (`trailing comma before ']'`).
    public var message: String
    /// Where it is wrong.
    public var position: JSONPosition

    /// Creates an error.
    public init(message: String, position: JSONPosition) {
        self.message = message
        self.position = position
    }

    /// `line:column: message`.
    public var description: String { "\(position.line):\(position.column): \(message)" }
}
