/// The level of a log line (SPEC §5 `level`), ordered from the most to the least verbose.
///
/// `MeshConfig.LogLevel` is the configuration's spelling of the same four values; MeshLog has its own type so it
/// stays a leaf that needs only MeshJSON.
public enum LogSeverity: UInt8, Sendable, Comparable, CaseIterable {
    /// Diagnostic detail, off by default.
    case debug = 0
    /// Normal operation: start, reload, request lines.
    case info = 1
    /// Something degraded: a breaker opened, a refresh failed.
    case warn = 2
    /// Something failed: invalid config on reload, a listener lost.
    case error = 3

    /// The `level` field's value: `debug|info|warn|error`.
    public var name: StaticString {
        switch self {
        case .debug: "debug"
        case .info: "info"
        case .warn: "warn"
        case .error: "error"
        }
    }

    /// Parses `debug|info|warn|error`; nil for anything else.
    public init?(name: String) {
        switch name {
        case "debug": self = .debug
        case "info": self = .info
        case "warn": self = .warn
        case "error": self = .error
        default: return nil
        }
    }

    /// Whether a line at `level` passes a filter set to `self` (`logging.level`): `warn` admits warn and error.
    public func admits(_ level: LogSeverity) -> Bool { level >= self }

    /// Orders by verbosity: `debug < info < warn < error`.
    public static func < (a: LogSeverity, b: LogSeverity) -> Bool { a.rawValue < b.rawValue }
}
