/// Text forms of `google.protobuf.Timestamp` (RFC 3339, always `Z` on output) and `google.protobuf.Duration`
/// (`"1.5s"`), with the ranges and fraction rules of the proto3 JSON mapping: 0, 3, 6 or 9 fractional digits on
/// output, 1 to 9 accepted on input. Pure integer arithmetic, no Foundation.
enum TimeText {
    /// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z in Unix seconds (timestamp.proto's range).
    static let minTimestamp: Int64 = -62_135_596_800
    static let maxTimestamp: Int64 = 253_402_300_799
    /// ±10,000 years in seconds (duration.proto's range).
    static let maxDuration: Int64 = 315_576_000_000

    // MARK: - Timestamp

    /// `seconds`/`nanos` as RFC 3339 UTC text, or nil when out of range.
    static func formatTimestamp(seconds: Int64, nanos: Int32) -> String? {
        guard seconds >= minTimestamp, seconds <= maxTimestamp, nanos >= 0, nanos <= 999_999_999 else { return nil }
        let days = floorDiv(seconds, 86_400)
        let secOfDay = seconds - days * 86_400
        let (y, m, d) = civil(fromDays: days)
        let time = "\(pad(secOfDay / 3600, 2)):\(pad(secOfDay / 60 % 60, 2)):\(pad(secOfDay % 60, 2))"
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(time)\(fraction(nanos))Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)`; nil when malformed or out of range.
    static func parseTimestamp(_ text: String) -> (seconds: Int64, nanos: Int32)? {
        var s = Scanner(Array(text.utf8))
        guard let y = s.digits(4), s.eat("-"), let mo = s.digits(2), s.eat("-"), let d = s.digits(2), s.eat("T"),
            let h = s.digits(2), s.eat(":"), let mi = s.digits(2), s.eat(":"), let sec = s.digits(2)
        else { return nil }
        guard (1...12).contains(mo), d >= 1, d <= daysIn(month: mo, year: y), h < 24, mi < 60, sec < 60 else {
            return nil
        }
        let nanos = s.eat(".") ? s.fractionNanos() : 0
        guard let nanos else { return nil }
        var offset: Int64 = 0
        if s.eat("Z") {
        } else if let sign = s.sign(), let oh = s.digits(2), s.eat(":"), let om = s.digits(2), oh < 24, om < 60 {
            offset = sign * (oh * 3600 + om * 60)
        } else {
            return nil
        }
        guard s.atEnd else { return nil }
        let seconds = days(fromCivil: y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset
        guard seconds >= minTimestamp, seconds <= maxTimestamp else { return nil }
        return (seconds, Int32(nanos))
    }

    // MARK: - Duration

    /// `"-1.5s"` form, or nil when out of range or when seconds and nanos disagree in sign.
    static func formatDuration(seconds: Int64, nanos: Int32) -> String? {
        // Range first, without abs(): abs(Int64.min) traps, and decoded values can be anything.
        guard seconds >= -maxDuration, seconds <= maxDuration, nanos >= -999_999_999, nanos <= 999_999_999 else {
            return nil
        }
        guard (seconds >= 0 && nanos >= 0) || (seconds <= 0 && nanos <= 0) else { return nil }
        let sign = seconds < 0 || nanos < 0 ? "-" : ""
        return "\(sign)\(abs(seconds))\(fraction(abs(nanos)))s"
    }

    /// Parses `-?\d+(\.\d{1,9})?s`; nil when malformed or out of range.
    static func parseDuration(_ text: String) -> (seconds: Int64, nanos: Int32)? {
        var s = Scanner(Array(text.utf8))
        let negative = s.eat("-")
        guard let whole = s.number(maxDigits: 12) else { return nil }
        let nanos = s.eat(".") ? s.fractionNanos() : 0
        guard let nanos, s.eat("s"), s.atEnd, whole <= maxDuration else { return nil }
        return negative ? (-whole, Int32(-nanos)) : (whole, Int32(nanos))
    }

    // MARK: - Helpers

    /// "", ".123", ".123456" or ".123456789": the shortest of the three groupings that is exact.
    static func fraction(_ nanos: Int32) -> String {
        if nanos == 0 { return "" }
        if nanos % 1_000_000 == 0 { return "." + pad(Int64(nanos / 1_000_000), 3) }
        if nanos % 1_000 == 0 { return "." + pad(Int64(nanos / 1_000), 6) }
        return "." + pad(Int64(nanos), 9)
    }

    static func pad(_ n: Int64, _ width: Int) -> String {
        let digits = String(n)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }

    static func isLeap(_ y: Int64) -> Bool { y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) }

    static func daysIn(month m: Int64, year y: Int64) -> Int64 {
        [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][Int(m - 1)]
    }

    /// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar (H. Hinnant's algorithm).
    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Inverse of `civil(fromDays:)`.
    static func days(fromCivil y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

/// A cursor over ASCII text for the time formats.
private struct Scanner {
    let bytes: [UInt8]
    var i = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { i == bytes.count }

    mutating func eat(_ c: Unicode.Scalar) -> Bool {
        guard i < bytes.count, bytes[i] == UInt8(ascii: c) else { return false }
        i += 1
        return true
    }

    mutating func sign() -> Int64? {
        if eat("+") { return 1 }
        if eat("-") { return -1 }
        return nil
    }

    /// Exactly `count` digits.
    mutating func digits(_ count: Int) -> Int64? {
        guard bytes.count - i >= count else { return nil }
        var n: Int64 = 0
        for _ in 0..<count {
            guard bytes[i] >= 0x30 && bytes[i] <= 0x39 else { return nil }
            n = n * 10 + Int64(bytes[i] - 0x30)
            i += 1
        }
        return n
    }

    /// 1 to `maxDigits` digits.
    mutating func number(maxDigits: Int) -> Int64? {
        var n: Int64 = 0
        var count = 0
        while i < bytes.count, bytes[i] >= 0x30 && bytes[i] <= 0x39 {
            guard count < maxDigits else { return nil }
            n = n * 10 + Int64(bytes[i] - 0x30)
            i += 1
            count += 1
        }
        return count > 0 ? n : nil
    }

    /// 1 to 9 digits after a `.`, as nanoseconds.
    mutating func fractionNanos() -> Int64? {
        let start = i
        guard var n = number(maxDigits: 9) else { return nil }
        for _ in (i - start)..<9 { n *= 10 }
        return n
    }
}
