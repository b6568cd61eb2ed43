import Glibc

/// RFC 3339 timestamps in UTC with milliseconds (`2026-11-25T07:51:34.123Z`), written straight into bytes.
///
/// No `gmtime_r`, no allocation: the civil date comes from Howard Hinnant's `civil_from_days` algorithm
/// (proleptic Gregorian calendar, valid for every date a log can carry).
public enum RFC3339 {
    /// Milliseconds since the Unix epoch from `CLOCK_REALTIME` (wall clock: only for log timestamps, STYLE "Time").
    public static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Appends the 24-byte timestamp for `ms` (milliseconds since the epoch, ≥ 0) to `out`.
    public static func append<Sink: ByteSink>(ms: Int64, to out: inout Sink) {
        let clamped = max(0, ms)
        let days = clamped / 86_400_000
        let msOfDay = clamped % 86_400_000
        let (year, month, day) = civil(days: days)
        appendDigits(year, 4, &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(month, 2, &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(day, 2, &out)
        out.append(UInt8(ascii: "T"))
        appendDigits(msOfDay / 3_600_000, 2, &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(msOfDay / 60_000 % 60, 2, &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(msOfDay / 1000 % 60, 2, &out)
        out.append(UInt8(ascii: "."))
        appendDigits(msOfDay % 1000, 3, &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// The timestamp as a `String` (tests, events).
    public static func string(ms: Int64) -> String {
        var bytes: [UInt8] = []
        append(ms: ms, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Days since 1970-01-01 → (year, month 1…12, day 1…31).
    static func civil(days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    @inline(__always)
    static func appendDigits<Sink: ByteSink>(_ value: Int64, _ width: Int, _ out: inout Sink) {
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        var v = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") &+ UInt8(v / divisor % 10))
            v %= divisor
            divisor /= 10
        }
    }
}
