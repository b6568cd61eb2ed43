/// Strict RFC 8259 reader producing a `JSONNode` tree with positions.
///
/// Rejects trailing commas, comments, leading zeros, `NaN`/`Infinity`, invalid UTF-8 (RFC 3629), unescaped control
/// characters, lone surrogates in `\u` escapes and, by default, duplicate keys. A leading UTF-8 byte order mark is
/// skipped (RFC 8259 §8.1 allows it). Nesting is handled with an explicit stack, so depth costs heap, not call
/// stack: a hostile `[[[[…` ends with an error, never a crash.
public enum JSONReader {
    /// Limits and strictness switches.
    public struct Options: Sendable {
        /// Maximum nesting of arrays and objects; the bracket that exceeds it is reported.
        public var maxDepth = 128
        /// Maximum document size in bytes.
        public var maxBytes = 16 << 20
        /// When true (the default) a repeated key in one object is an error naming the key (RFC 8259 §4 says
        /// behaviour is unpredictable otherwise, and for config it is almost always a mistake).
        public var rejectDuplicateKeys = true

        /// The defaults above.
        public init() {}
    }

    /// Parses one JSON text from bytes the caller owns for the duration of the call.
    /// - Throws: `JSONSyntaxError` with the position of the first offending byte.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, options: Options = .init()
    ) throws(JSONSyntaxError) -> JSONNode {
        var parser = JSONParser(bytes: bytes, options: options)
        return try parser.parseDocument()
    }

    /// Parses one JSON text from an array of bytes.
    /// - Throws: `JSONSyntaxError` with the position of the first offending byte.
    public static func parse(_ bytes: [UInt8], options: Options = .init()) throws(JSONSyntaxError) -> JSONNode {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(JSONSyntaxError) -> JSONNode in try parse(buffer, options: options) }
        }
        return try result.get()
    }

    /// Parses one JSON text from a string's UTF-8.
    /// - Throws: `JSONSyntaxError` with the position of the first offending byte.
    public static func parse(_ text: String, options: Options = .init()) throws(JSONSyntaxError) -> JSONNode {
        try parse(Array(text.utf8), options: options)
    }
}
