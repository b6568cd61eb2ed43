/// One JSON log line being built in a reusable byte buffer: `{"ts":…,"level":…,"service":…,"msg":…,…}\n`.
///
/// Owned by one thread (a worker keeps one and reuses it for every line, so formatting allocates nothing once the
/// buffer has grown to the longest line). Every string value goes through `LogEscaping`: JSON-escaped (RFC 8259
/// §7) and redacted (`access_token=` values and `Bearer` credentials never reach the output, SPEC §5).
///
/// A class over raw memory (not an `Array`): one access log line is ~60 appends, and an `Array` append's
/// uniqueness and capacity checks cost more than the bytes themselves. Used by one thread at a time.
public final class LogLine: @unchecked Sendable {
    private var storage: RawBytes

    /// An empty line with `capacity` bytes reserved.
    public init(capacity: Int = 1024) {
        storage = RawBytes(capacity: capacity)
    }

    deinit { storage.free() }

    /// The line so far (a copy); after `end()` a complete JSON object followed by `\n`.
    public var bytes: [UInt8] { Array(storage.buffer) }

    /// Bytes in the line so far.
    public var count: Int { storage.count }

    /// Lends the line's bytes without copying them.
    public func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try body(storage.buffer)
    }

    /// Starts a new line (dropping the previous one, keeping the buffer) with SPEC §5's four leading fields.
    public func begin(timestampMs: Int64, level: LogSeverity, service: String, message: String) {
        storage.count = 0
        append("{\"ts\":\"")
        RFC3339.append(ms: timestampMs, to: &storage)
        append("\",\"level\":\"")
        append(level.name)
        append("\",\"service\":")
        LogEscaping.appendString(service, to: &storage)
        append(",\"msg\":")
        LogEscaping.appendString(message, to: &storage)
    }

    /// Adds `"key":"value"` (escaped, redacted).
    public func field(_ key: StaticString, _ value: String) {
        appendKey(key)
        LogEscaping.appendString(value, to: &storage)
    }

    /// Adds `"key":"value"` for a value held as UTF-8 bytes (config names prepared once at start).
    public func field(_ key: StaticString, utf8 value: [UInt8]) {
        appendKey(key)
        value.withUnsafeBufferPointer { LogEscaping.appendString($0, to: &storage) }
    }

    /// Adds `"key":"value"` where `value` is a static code (an error code, a label).
    public func field(_ key: StaticString, code value: StaticString) {
        appendKey(key)
        value.withUTF8Buffer { LogEscaping.appendString($0, to: &storage) }
    }

    /// Adds `"key":"path"` cut at the first `?` or `#`: a query string never reaches the logs (SPEC §5).
    public func field(_ key: StaticString, path: String) {
        appendKey(key)
        var path = path
        path.withUTF8 { all in
            var end = 0
            while end < all.count, all[end] != UInt8(ascii: "?"), all[end] != UInt8(ascii: "#") { end += 1 }
            LogEscaping.appendString(UnsafeBufferPointer(rebasing: all[0..<end]), to: &storage)
        }
    }

    /// Adds `"key":value` for an integer.
    public func field(_ key: StaticString, _ value: Int) {
        appendKey(key)
        appendInt(value)
    }

    /// Adds `"key":value` for a non-negative quantity with exactly three decimals (`duration_ms`); negative or
    /// non-finite values are written as 0 so the line stays valid JSON.
    public func field(_ key: StaticString, milli value: Double) {
        appendKey(key)
        let thousandths = value.isFinite && value > 0 ? Int((value * 1000).rounded()) : 0
        appendInt(thousandths / 1000)
        storage.append(UInt8(ascii: "."))
        let fraction = thousandths % 1000
        storage.append(UInt8(ascii: "0") &+ UInt8(fraction / 100))
        storage.append(UInt8(ascii: "0") &+ UInt8(fraction / 10 % 10))
        storage.append(UInt8(ascii: "0") &+ UInt8(fraction % 10))
    }

    /// Adds `"key":"<16 lowercase hex digits>"` for each of `words` (trace and span ids), without a String.
    public func field(_ key: StaticString, hex words: UInt64...) {
        appendKey(key)
        storage.append(UInt8(ascii: "\""))
        let digits: StaticString = "0123456789abcdef"
        digits.withUTF8Buffer { hex in
            for word in words {
                for shift in stride(from: 60, through: 0, by: -4) {
                    storage.append(hex[Int((word >> UInt64(shift)) & 0xF)])
                }
            }
        }
        storage.append(UInt8(ascii: "\""))
    }

    /// Adds `"key":"value"` for UTF-8 bytes the caller lends (escaped, redacted).
    public func field(_ key: StaticString, bytes value: UnsafeRawBufferPointer) {
        appendKey(key)
        LogEscaping.appendString(value.bindMemory(to: UInt8.self), to: &storage)
    }

    /// Adds `"key":true` or `"key":false`.
    public func field(_ key: StaticString, _ value: Bool) {
        appendKey(key)
        append(value ? "true" : "false")
    }

    /// Adds `"key":null`.
    public func fieldNull(_ key: StaticString) {
        appendKey(key)
        append("null")
    }

    /// Adds a member whose key is only known at run time (event fields); the key is escaped and redacted too.
    public func field(dynamicKey key: String, _ value: String) {
        storage.append(UInt8(ascii: ","))
        LogEscaping.appendString(key, to: &storage)
        storage.append(UInt8(ascii: ":"))
        LogEscaping.appendString(value, to: &storage)
    }

    /// Closes the object and appends the newline.
    public func end() {
        append("}\n")
    }

    // MARK: - Bytes

    @inline(__always)
    private func appendKey(_ key: StaticString) {
        storage.append(UInt8(ascii: ","))
        storage.append(UInt8(ascii: "\""))
        append(key)
        storage.append(UInt8(ascii: "\""))
        storage.append(UInt8(ascii: ":"))
    }

    @inline(__always)
    private func append(_ s: StaticString) {
        s.withUTF8Buffer { storage.append(contentsOf: $0) }
    }

    private func appendInt(_ value: Int) {
        if value < 0 {
            storage.append(UInt8(ascii: "-"))
            // Int.min cannot be negated; it never occurs in a log field, write its magnitude's digits anyway.
            appendUnsigned(value == Int.min ? UInt(Int.max) + 1 : UInt(-value))
        } else {
            appendUnsigned(UInt(value))
        }
    }

    private func appendUnsigned(_ value: UInt) {
        var divisor: UInt = 1
        while divisor <= value / 10 { divisor *= 10 }
        var v = value
        while divisor > 0 {
            storage.append(UInt8(ascii: "0") &+ UInt8(v / divisor))
            v %= divisor
            divisor /= 10
        }
    }
}
