import Glibc
import MeshJSON

/// JSON-lines logger on stdout: `{"ts","level","service","msg",...fields}` (SPEC §5 field names).
///
/// Lines are written with one `write(2)` each so lines from a crash never interleave mid-line. Used from the
/// loop thread and from `main` before the loop starts; stdout is a file or pipe the operator chose.
public struct ServiceLog: Sendable {
    /// The `service` field of every line.
    public let service: String

    /// Creates a logger for `service`.
    public init(service: String) {
        self.service = service
    }

    /// A value of a log field: strings are quoted, numbers are not.
    public enum Field: Sendable {
        /// A JSON string.
        case string(String)
        /// A JSON integer.
        case int(Int)
        /// A JSON number.
        case double(Double)
    }

    /// Writes an `info` line.
    public func info(_ message: String, _ fields: KeyValuePairs<String, Field> = [:]) {
        write("info", message, Array(fields))
    }

    /// Writes a `warn` line.
    public func warn(_ message: String, _ fields: KeyValuePairs<String, Field> = [:]) {
        write("warn", message, Array(fields))
    }

    /// Writes an `error` line.
    public func error(_ message: String, _ fields: KeyValuePairs<String, Field> = [:]) {
        write("error", message, Array(fields))
    }

    /// Writes one line with `level` and the fields in order.
    public func write(_ level: String, _ message: String, _ fields: [(String, Field)]) {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("ts")
        writer.string(WallClock.rfc3339(milliseconds: WallClock.nowMilliseconds()))
        writer.key("level")
        writer.string(level)
        writer.key("service")
        writer.string(service)
        writer.key("msg")
        writer.string(message)
        for (key, value) in fields {
            writer.key(key)
            switch value {
            case .string(let s): writer.string(s)
            case .int(let i): writer.number(i)
            case .double(let d): writer.number(d)
            }
        }
        writer.endObject()
        var bytes = writer.bytes
        bytes.append(0x0A)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(1, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }  // stdout gone: logging must never take the service down
                offset += n
            }
        }
    }
}
