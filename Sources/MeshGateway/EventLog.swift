import MeshPosix
import Glibc
import MeshConfig
import MeshLog
import MeshSync

/// Event lines (start, stop, errors) as JSON on stdout, SPEC §5's shape: `ts`, `level`, `service`, `msg`.
///
/// Not for per-request lines (the access log has its own non-blocking writer); events are rare.
public enum EventLog {
    public static func info(_ message: String, _ fields: [String: String]) { emit("info", message, fields) }
    public static func warn(_ message: String, _ fields: [String: String]) { emit("warn", message, fields) }
    public static func error(_ message: String, _ fields: [String: String]) { emit("error", message, fields) }

    /// An error that ends the process: written to stderr at once, as plain text (the asynchronous log
    /// writer is lost at `exit()`, so a busy port used to print nothing), and as an event line too.
    public static func fatal(_ message: String, _ fields: [String: String]) {
        let details = fields.keys.sorted().map { "\($0): \(fields[$0]!)" }.joined(separator: "; ")
        Console.error("meshgate: \(message)\(details.isEmpty ? "" : " (\(details))")\n")
        emit("error", message, fields)
    }

    /// Once the gateway runs, event lines go through its telemetry (level filter, non-blocking writer).
    private static let sink = Locked<Telemetry?>(nil)

    static func route(to telemetry: Telemetry?) { sink.withLock { $0 = telemetry } }

    static func emit(_ level: String, _ message: String, _ fields: [String: String]) {
        let keys = fields.keys.sorted()
        if let telemetry = sink.withLock({ $0 }) {
            telemetry.event(LogLevel(rawValue: level) ?? .info, message, keys.map { ($0, fields[$0]!) })
            return
        }
        // Before the gateway runs (config errors, bind failures) and after it stopped: write at once.
        let line = LogLine(capacity: 256)
        line.begin(
            timestampMs: RFC3339.nowMs(), level: LogSeverity(name: level) ?? .info, service: "meshgate",
            message: message)
        for key in keys { line.field(dynamicKey: key, fields[key]!) }
        line.end()
        Console.write(String(decoding: line.bytes, as: UTF8.self), to: 1)
    }
}
