/// The reader's state: a cursor over borrowed bytes plus line bookkeeping. Structure is parsed iteratively with a
/// `Frame` stack (so nesting never grows the call stack); scalars live in `JSONParser+Scalars.swift`.
struct JSONParser {
    /// One open array or object.
    struct Frame {
        var isObject: Bool
        var position: JSONPosition
        var items: [JSONNode] = []
        var members: [JSONMember] = []
        /// The key waiting for its value (objects only).
        var pendingKey = ""
        var pendingKeyPosition = JSONPosition(line: 1, column: 1, offset: 0)
        /// Built once an object grows large; small objects check duplicates by a linear scan (no hashing).
        var keySet: Set<String>? = nil

        init(isObject: Bool, position: JSONPosition) {
            self.isObject = isObject
            self.position = position
        }
    }

    let bytes: UnsafeRawBufferPointer
    let options: JSONReader.Options
    var index = 0
    var line = 1
    var lineStart = 0
    /// Reused between strings so escape decoding allocates once per document, not once per string.
    var scratch: [UInt8] = []

    init(bytes: UnsafeRawBufferPointer, options: JSONReader.Options) {
        self.bytes = bytes
        self.options = options
    }

    /// The position of the byte at `index`.
    var position: JSONPosition { position(at: index) }

    /// The position of `offset`, which must lie on the current line.
    func position(at offset: Int) -> JSONPosition {
        JSONPosition(line: line, column: offset - lineStart + 1, offset: offset)
    }

    var atEnd: Bool { index >= bytes.count }
    var peek: UInt8 { bytes[index] }

    func error(_ message: String, at position: JSONPosition? = nil) -> JSONSyntaxError {
        JSONSyntaxError(message: message, position: position ?? self.position)
    }

    /// What the cursor is looking at, for messages: `'x'`, `byte 0xC3`, or `end of input`.
    var found: String { atEnd ? "end of input" : describe(peek) }

    /// "expected X, found Y", except that a `/` gets the real reason: JSON has no comments (RFC 8259).
    func unexpected(_ expected: String) -> JSONSyntaxError {
        if !atEnd, peek == UInt8(ascii: "/") { return error("comments are not allowed in JSON") }
        return error("\(expected), found \(found)")
    }

    func describe(_ byte: UInt8) -> String {
        if byte > 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x" + hex2(byte)
    }

    /// RFC 8259 §2: whitespace is space, tab, LF, CR. Only LF advances the line counter.
    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0D: index += 1
            case 0x0A:
                index += 1
                line += 1
                lineStart = index
            default: return
            }
        }
    }

    mutating func parseDocument() throws(JSONSyntaxError) -> JSONNode {
        guard bytes.count <= options.maxBytes else {
            throw error("document is \(bytes.count) bytes, over the limit of \(options.maxBytes)")
        }
        // RFC 8259 §8.1: a parser MAY ignore a byte order mark.
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
        skipWhitespace()
        if atEnd { throw error("empty document: expected a JSON value") }
        let node = try parseNested()
        skipWhitespace()
        if !atEnd, peek == UInt8(ascii: "/") { throw unexpected("") }
        if !atEnd { throw error("unexpected \(found) after the JSON value") }
        return node
    }

    /// Parses one value of any depth without recursion.
    mutating func parseNested() throws(JSONSyntaxError) -> JSONNode {
        var stack: [Frame] = []
        while true {
            // Here a value is expected: the document, an array element, or a member's value.
            skipWhitespace()
            var node: JSONNode
            if !atEnd, peek == UInt8(ascii: "[") || peek == UInt8(ascii: "{") {
                guard let empty = try open(&stack) else { continue }
                node = empty
            } else {
                node = try parseScalar()
            }
            // Attach the finished value, then close every container that ends right after it.
            while let top = stack.indices.last {
                try attach(node, to: &stack[top])
                skipWhitespace()
                guard let closed = try separatorOrClose(&stack) else { break }
                node = closed
            }
            if stack.isEmpty { return node }
        }
    }

    /// Consumes `[` or `{`. Returns the node for an empty container, or nil after pushing a frame.
    private mutating func open(_ stack: inout [Frame]) throws(JSONSyntaxError) -> JSONNode? {
        let start = position
        let isObject = peek == UInt8(ascii: "{")
        guard stack.count < options.maxDepth else {
            throw error("nesting deeper than \(options.maxDepth) levels")
        }
        index += 1
        skipWhitespace()
        let closer = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
        if !atEnd, peek == closer {
            index += 1
            return JSONNode(value: isObject ? .object([]) : .array([]), position: start)
        }
        var frame = Frame(isObject: isObject, position: start)
        if isObject { try readKey(into: &frame) }
        stack.append(frame)
        return nil
    }

    private mutating func attach(_ node: JSONNode, to frame: inout Frame) throws(JSONSyntaxError) {
        guard frame.isObject else {
            frame.items.append(node)
            return
        }
        frame.members.append(JSONMember(key: frame.pendingKey, keyPosition: frame.pendingKeyPosition, value: node))
        if frame.keySet != nil {
            frame.keySet!.insert(frame.pendingKey)
        } else if options.rejectDuplicateKeys && frame.members.count >= 16 {
            frame.keySet = Set(frame.members.map(\.key))
        }
    }

    /// After a value inside a container: `,` (returns nil, ready for the next value) or the closing bracket
    /// (pops the frame and returns the finished container).
    private mutating func separatorOrClose(_ stack: inout [Frame]) throws(JSONSyntaxError) -> JSONNode? {
        let top = stack.count - 1
        let isObject = stack[top].isObject
        let closer = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
        let closerText = isObject ? "'}'" : "']'"
        guard !atEnd else {
            throw error("unexpected end of input: expected ',' or \(closerText)")
        }
        if peek == UInt8(ascii: ",") {
            let comma = position
            index += 1
            skipWhitespace()
            if !atEnd, peek == closer { throw error("trailing comma before \(closerText)", at: comma) }
            if isObject { try readKey(into: &stack[top]) }
            return nil
        }
        guard peek == closer else {
            let what = isObject ? "a member" : "an array element"
            throw unexpected("expected ',' or \(closerText) after \(what)")
        }
        index += 1
        let frame = stack.removeLast()
        let value: JSONValue = isObject ? .object(frame.members) : .array(frame.items)
        return JSONNode(value: value, position: frame.position)
    }

    /// Reads `"key" :` into the frame, rejecting a duplicate key at the key's position.
    private mutating func readKey(into frame: inout Frame) throws(JSONSyntaxError) {
        guard !atEnd, peek == UInt8(ascii: "\"") else {
            throw unexpected("expected a string key in double quotes")
        }
        let keyPosition = position
        let key = try parseString()
        if options.rejectDuplicateKeys {
            let duplicate = frame.keySet?.contains(key) ?? frame.members.contains { $0.key == key }
            if duplicate { throw error("duplicate key \"\(key)\"", at: keyPosition) }
        }
        skipWhitespace()
        guard !atEnd, peek == UInt8(ascii: ":") else {
            throw unexpected("expected ':' after key \"\(key)\"")
        }
        index += 1
        frame.pendingKey = key
        frame.pendingKeyPosition = keyPosition
    }
}

/// Two upper-case hex digits.
func hex2(_ byte: UInt8) -> String {
    let digits: [Character] = Array("0123456789ABCDEF")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
}
