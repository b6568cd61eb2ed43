/// One problem in a configuration file: where it is and what to do about it.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// JSON path of the offending value, like `listeners[0].routes[2].retry.retries`; empty for the root.
    public var path: String
    /// 1-based line of the offending value or key, when known.
    public var line: Int?
    /// 1-based byte column, when known.
    public var column: Int?
    /// What is wrong and what to do, e.g. `unknown key "retires" (did you mean "retries"?)`.
    public var message: String
    /// The file name shown in `description` (as given to the loader).
    public var fileName: String

    /// Creates an error.
    public init(path: String, line: Int?, column: Int?, message: String, fileName: String = "routes.json") {
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        self.fileName = fileName
    }

    /// `routes.json:12:7: listeners[0].routes[1].retry.retires: unknown key …`, the form compilers use so editors
    /// can jump to it; the location and path parts are left out when unknown or empty.
    public var description: String {
        var text = fileName
        if let line {
            text += ":\(line)"
            if let column { text += ":\(column)" }
        }
        text += ": "
        if !path.isEmpty { text += "\(path): " }
        return text + message
    }
}

/// Every error found in one file, in file order (by line and column; errors without a position last).
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    /// The errors; never empty when returned by `ConfigLoader`.
    public var errors: [ConfigError]

    /// Wraps a list of errors.
    public init(errors: [ConfigError]) { self.errors = errors }

    /// One error per line.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
