/// Appends compact JSON to a `[UInt8]` without Foundation.
///
/// The writer inserts commas itself: call `key` before each object member's value, and the value methods in
/// order. It does not check that calls are balanced (a missing `endObject` produces invalid JSON); tests of
/// callers catch that. Strings are escaped per RFC 8259 §7 (see `escaped(_:)`).
public struct JSONWriter: Sendable {
    /// The JSON written so far.
    public var bytes: [UInt8] = []
    /// Whether the next value or key in the current container needs a leading comma.
    private var needsComma = false

    /// An empty writer.
    public init() {}

    /// The output as a `String` (always valid UTF-8: every input is a Swift `String` or validated JSON).
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
    }

    /// Writes `{`.
    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    /// Writes `}`.
    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// Writes `[`.
    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    /// Writes `]`.
    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes `"k":`; the next call must write the member's value.
    public mutating func key(_ k: String) {
        separate()
        Self.appendEscaped(k, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Writes an escaped string value.
    public mutating func string(_ s: String) {
        separate()
        Self.appendEscaped(s, to: &bytes)
    }

    /// Writes an integer.
    public mutating func number(_ i: Int) {
        separate()
        bytes.append(contentsOf: String(i).utf8)
    }

    /// Writes a double in the shortest form that reads back to the same value; NaN and infinities, which JSON
    /// cannot represent, are written as `null`.
    public mutating func number(_ d: Double) {
        separate()
        guard d.isFinite else {
            bytes.append(contentsOf: "null".utf8)
            return
        }
        // Swift's description is round-trippable and JSON-compatible for finite values ("1.0", "1e-05", "5e+20").
        bytes.append(contentsOf: d.description.utf8)
    }

    /// Writes `true` or `false`.
    public mutating func bool(_ b: Bool) {
        separate()
        bytes.append(contentsOf: (b ? "true" : "false").utf8)
    }

    /// Writes `null`.
    public mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
    }

    /// Writes already-serialized JSON as one value, unchanged (the caller guarantees it is valid).
    public mutating func raw(_ json: String) {
        separate()
        bytes.append(contentsOf: json.utf8)
    }

    /// Serializes a parsed value; numbers keep their original text.
    public mutating func value(_ node: JSONValue) {
        switch node {
        case .null: null()
        case .bool(let b): bool(b)
        case .number(let n): raw(n.text)
        case .string(let s): string(s)
        case .array(let items):
            beginArray()
            for item in items { value(item.value) }
            endArray()
        case .object(let members):
            beginObject()
            for member in members {
                key(member.key)
                value(member.value.value)
            }
            endObject()
        }
    }

    /// `s` as a JSON string literal, quotes included.
    public static func escaped(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 2)
        appendEscaped(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 8259 §7: `"` and `\` are escaped, `\b \f \n \r \t` use their short forms, every other control character
    /// (U+0000–U+001F) is written as `\u00XX`; everything else, non-ASCII included, is copied as UTF-8.
    static func appendEscaped(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(contentsOf: hex2(byte).lowercased().utf8)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
