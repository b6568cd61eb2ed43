/// A W3C trace-id: 16 bytes, kept as two big-endian halves (`high` is the first 8 bytes on the wire).
///
/// All-zero is invalid on the wire (W3C Trace Context §3.2.2.3); `init(random:)` never produces it.
public struct TraceID: Sendable, Hashable {
    /// Bytes 0…7, big-endian.
    public let high: UInt64
    /// Bytes 8…15, big-endian.
    public let low: UInt64

    /// Creates an id from its halves (may be all-zero; `isValid` tells).
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// A new trace-id from caller-supplied random words (the gateway draws them from libcrypto).
    ///
    /// If both words are zero (probability 2^-128) the low bit is set, so the result is always valid.
    public init(random: (UInt64, UInt64)) {
        high = random.0
        low = (random.0 | random.1) == 0 ? 1 : random.1
    }

    /// False for the all-zero id, which W3C forbids.
    public var isValid: Bool { (high | low) != 0 }

    /// The 32 lowercase hex digits, for logs and tests.
    public var hex: String { Hex.string(high) + Hex.string(low) }
}

/// A W3C parent-id / span-id: 8 bytes as one big-endian word. All-zero is invalid on the wire.
public struct SpanID: Sendable, Hashable {
    /// The 8 bytes, big-endian.
    public let value: UInt64

    /// Creates an id from its value (may be zero; `isValid` tells).
    public init(_ value: UInt64) {
        self.value = value
    }

    /// A new span-id from a caller-supplied random word; zero (probability 2^-64) becomes 1.
    public init(random: UInt64) {
        value = random == 0 ? 1 : random
    }

    /// False for the all-zero id, which W3C forbids.
    public var isValid: Bool { value != 0 }

    /// The 16 lowercase hex digits, for logs and tests.
    public var hex: String { Hex.string(value) }
}

/// Lowercase hex helpers over raw bytes (no allocation except the `String` conveniences).
enum Hex {
    static let digits: StaticString = "0123456789abcdef"

    /// Value of one lowercase hex digit, or nil (uppercase is not HEXDIGLC).
    @inline(__always)
    static func value(_ byte: UInt8) -> UInt64? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt64(byte &- UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt64(byte &- UInt8(ascii: "a") &+ 10)
        default: nil
        }
    }

    /// Parses `count` (≤ 16) lowercase hex digits at `offset`; nil on any other byte.
    static func parse(_ bytes: UnsafeRawBufferPointer, at offset: Int, count: Int) -> UInt64? {
        var result: UInt64 = 0
        for i in offset..<(offset + count) {
            guard let digit = value(bytes[i]) else { return nil }
            result = result << 4 | digit
        }
        return result
    }

    /// Writes `count` (≤ 16) hex digits of the low bits of `value` at `offset`.
    static func write(_ value: UInt64, count: Int, into out: UnsafeMutableRawBufferPointer, at offset: Int) {
        let table = digits.utf8Start
        for i in 0..<count {
            let shift = UInt64((count - 1 - i) * 4)
            out[offset + i] = table[Int((value >> shift) & 0xF)]
        }
    }

    /// 16 hex digits of `value` as a String.
    static func string(_ value: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { buffer in
            write(value, count: 16, into: UnsafeMutableRawBufferPointer(buffer), at: 0)
            return 16
        }
    }
}
