/// Appends protobuf wire-format values to a `[UInt8]`. Length-delimited payloads are written by the caller into
/// a separate writer first (their length must precede them); that costs one copy per nesting level, which keeps
/// the writer a plain append-only buffer.
public struct WireWriter: Sendable {
    /// The bytes written so far.
    public var bytes: [UInt8] = []

    /// An empty writer.
    public init() {}

    /// Appends a base-128 varint (1 to 10 bytes).
    public mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Appends a tag: `number << 3 | wireType`.
    public mutating func writeTag(_ number: Int32, _ wireType: WireType) {
        writeVarint(UInt64(UInt32(bitPattern: number)) << 3 | UInt64(wireType.rawValue))
    }

    /// Appends 4 bytes little-endian.
    public mutating func writeFixed32(_ value: UInt32) {
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))) }
    }

    /// Appends 8 bytes little-endian.
    public mutating func writeFixed64(_ value: UInt64) {
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }

    /// Appends a varint length and then the payload.
    public mutating func writeLengthDelimited(_ payload: some Collection<UInt8>) {
        writeVarint(UInt64(payload.count))
        bytes.append(contentsOf: payload)
    }
}

/// ZigZag encoding for `sint32`/`sint64` (encoding spec): small magnitudes of either sign become small varints.
public enum ZigZag {
    /// `n` → `(n << 1) ^ (n >> 31)`.
    public static func encode32(_ n: Int32) -> UInt32 { UInt32(bitPattern: (n << 1) ^ (n >> 31)) }
    /// `n` → `(n << 1) ^ (n >> 63)`.
    public static func encode64(_ n: Int64) -> UInt64 { UInt64(bitPattern: (n << 1) ^ (n >> 63)) }
    /// Inverse of `encode32`.
    public static func decode32(_ n: UInt32) -> Int32 { Int32(bitPattern: (n >> 1) ^ (0 &- (n & 1))) }
    /// Inverse of `encode64`.
    public static func decode64(_ n: UInt64) -> Int64 { Int64(bitPattern: (n >> 1) ^ (0 &- (n & 1))) }
}
