import CLinux
import Glibc
import MeshConfig
import Synchronization

/// Event lines (start, stop, errors) as JSON on stdout, SPEC §5's shape: `ts`, `level`, `service`, `msg`.
///
/// Not for per-request lines (the access log has its own non-blocking writer); events are rare.
public enum EventLog {
    public static func info(_ message: String, _ fields: [String: String]) { emit("info", message, fields) }
    public static func warn(_ message: String, _ fields: [String: String]) { emit("warn", message, fields) }
    public static func error(_ message: String, _ fields: [String: String]) { emit("error", message, fields) }

    /// Once the gateway runs, event lines go through its telemetry (level filter, non-blocking writer).
    private static let sink = Mutex<Telemetry?>(nil)

    static func route(to telemetry: Telemetry?) { sink.withLock { $0 = telemetry } }

    static func emit(_ level: String, _ message: String, _ fields: [String: String]) {
        if let telemetry = sink.withLock({ $0 }) {
            let fieldList = fields.keys.sorted().map { ($0, fields[$0]!) }
            telemetry.event(LogLevel(rawValue: level) ?? .info, message, fieldList)
            return
        }
        var line = "{\"ts\":\"\(timestamp())\",\"level\":\"\(level)\",\"service\":\"meshgate\",\"msg\":\(quote(message))"
        for key in fields.keys.sorted() { line += ",\(quote(key)):\(quote(fields[key]!))" }
        line += "}\n"
        Console.write(line, to: 1)
    }

    /// RFC 3339 UTC with milliseconds.
    static func timestamp() -> String {
        let ms = clinux_realtime_ms()
        var seconds = time_t(ms / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(ms % 1000), 3))Z"
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// Unbuffered writes to stdout/stderr (Glibc's `FILE*` globals are not usable from Swift 6 code).
public enum Console {
    public static func write(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                return
            }
            offset += n
        }
        bytes.removeAll()
    }

    public static func error(_ text: String) { write(text, to: 2) }
}
