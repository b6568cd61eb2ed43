/// A failed SQLite call: the result code (extended), the message, and what we were doing.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// SQLite's extended result code (e.g. 2067 SQLITE_CONSTRAINT_UNIQUE).
    public let code: Int32
    /// `sqlite3_errmsg` at the time of the failure.
    public let message: String
    /// The operation (`open`, `prepare`, `step`, or the SQL's first words).
    public let operation: String

    /// Creates an error.
    public init(code: Int32, message: String, operation: String) {
        self.code = code
        self.message = message
        self.operation = operation
    }

    /// True for constraint violations (UNIQUE, PRIMARY KEY, CHECK…): the caller usually maps them to 409/400.
    public var isConstraint: Bool { code & 0xFF == 19 }

    /// `operation: message (code N)`.
    public var description: String { "\(operation): \(message) (sqlite code \(code))" }
}

/// A value bound to, or read from, a statement.
public enum SQLValue: Sendable, Equatable {
    /// SQL NULL.
    case null
    /// A 64-bit integer.
    case integer(Int64)
    /// UTF-8 text.
    case text(String)
    /// Bytes.
    case blob([UInt8])

    /// The text, or nil for other types.
    public var text: String? {
        if case .text(let s) = self { return s }
        return nil
    }

    /// The integer, or nil for other types.
    public var integer: Int64? {
        if case .integer(let i) = self { return i }
        return nil
    }
}
