/// One JSON log line being built in a reusable byte buffer: `{"ts":…,"level":…,"service":…,"msg":…,…}\n`.
///
/// Owned by one thread (a worker keeps one and reuses it for every line, so formatting allocates nothing once the
/// buffer has grown to the longest line). Every string value goes through `LogEscaping`: JSON-escaped (RFC 8259
/// §7) and redacted (`access_token=` values and `Bearer` credentials never reach the output, SPEC §5).
public struct LogLine: Sendable {
    /// The line so far; after `end()` a complete JSON object followed by `\n`.
    public private(set) var bytes: [UInt8]

    /// An empty line with `capacity` bytes reserved.
    public init(capacity: Int = 1024) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Starts a new line (dropping the previous one, keeping the buffer) with SPEC §5's four leading fields.
    public mutating func begin(timestampMs: Int64, level: LogSeverity, service: String, message: String) {
        bytes.removeAll(keepingCapacity: true)
        append("{\"ts\":\"")
        RFC3339.append(ms: timestampMs, to: &bytes)
        append("\",\"level\":\"")
        append(level.name)
        append("\",\"service\":")
        LogEscaping.appendString(service, to: &bytes)
        append(",\"msg\":")
        LogEscaping.appendString(message, to: &bytes)
    }

    /// Adds `"key":"value"` (escaped, redacted).
    public mutating func field(_ key: StaticString, _ value: String) {
        appendKey(key)
        LogEscaping.appendString(value, to: &bytes)
    }

    /// Adds `"key":"value"` for a value held as UTF-8 bytes (config names prepared once at start).
    public mutating func field(_ key: StaticString, utf8 value: [UInt8]) {
        appendKey(key)
        value.withUnsafeBufferPointer { LogEscaping.appendString($0, to: &bytes) }
    }

    /// Adds `"key":"value"` where `value` is a static code (an error code, a label).
    public mutating func field(_ key: StaticString, code value: StaticString) {
        appendKey(key)
        value.withUTF8Buffer { LogEscaping.appendString($0, to: &bytes) }
    }

    /// Adds `"key":"path"` cut at the first `?` or `#`: a query string never reaches the logs (SPEC §5).
    public mutating func field(_ key: StaticString, path: String) {
        appendKey(key)
        var path = path
        path.withUTF8 { all in
            var end = 0
            while end < all.count, all[end] != UInt8(ascii: "?"), all[end] != UInt8(ascii: "#") { end += 1 }
            LogEscaping.appendString(UnsafeBufferPointer(rebasing: all[0..<end]), to: &bytes)
        }
    }

    /// Adds `"key":value` for an integer.
    public mutating func field(_ key: StaticString, _ value: Int) {
        appendKey(key)
        appendInt(value)
    }

    /// Adds `"key":value` for a non-negative quantity with exactly three decimals (`duration_ms`); negative or
    /// non-finite values are written as 0 so the line stays valid JSON.
    public mutating func field(_ key: StaticString, milli value: Double) {
        appendKey(key)
        let thousandths = value.isFinite && value > 0 ? Int((value * 1000).rounded()) : 0
        appendInt(thousandths / 1000)
        bytes.append(UInt8(ascii: "."))
        let fraction = thousandths % 1000
        bytes.append(UInt8(ascii: "0") &+ UInt8(fraction / 100))
        bytes.append(UInt8(ascii: "0") &+ UInt8(fraction / 10 % 10))
        bytes.append(UInt8(ascii: "0") &+ UInt8(fraction % 10))
    }

    /// Adds `"key":null`.
    public mutating func fieldNull(_ key: StaticString) {
        appendKey(key)
        append("null")
    }

    /// Adds a member whose key is only known at run time (event fields); the key is escaped and redacted too.
    public mutating func field(dynamicKey key: String, _ value: String) {
        bytes.append(UInt8(ascii: ","))
        LogEscaping.appendString(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        LogEscaping.appendString(value, to: &bytes)
    }

    /// Closes the object and appends the newline.
    public mutating func end() {
        append("}\n")
    }

    // MARK: - Bytes

    @inline(__always)
    private mutating func appendKey(_ key: StaticString) {
        bytes.append(UInt8(ascii: ","))
        bytes.append(UInt8(ascii: "\""))
        append(key)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    @inline(__always)
    private mutating func append(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    private mutating func appendInt(_ value: Int) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            // Int.min cannot be negated; it never occurs in a log field, write its magnitude's digits anyway.
            appendUnsigned(value == Int.min ? UInt(Int.max) + 1 : UInt(-value))
        } else {
            appendUnsigned(UInt(value))
        }
    }

    private mutating func appendUnsigned(_ value: UInt) {
        var divisor: UInt = 1
        while divisor <= value / 10 { divisor *= 10 }
        var v = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(v / divisor))
            v %= divisor
            divisor /= 10
        }
    }
}
