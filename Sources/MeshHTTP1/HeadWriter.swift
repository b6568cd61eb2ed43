/// Writes a head into caller memory without allocating; `overflowed` turns true (and stays) when space runs out.
///
/// A write that does not fit is dropped whole and every later write is ignored, so the caller checks
/// `overflowed` once at the end instead of after each call. Not thread-safe; the buffer is the caller's.
public struct HeadWriter {
    private let buffer: UnsafeMutableRawBufferPointer
    /// Bytes written so far (never more than the buffer holds).
    public private(set) var count: Int = 0
    /// Whether a write did not fit; once true the writer ignores further writes.
    public private(set) var overflowed: Bool = false

    /// Creates a writer that fills `buffer` from its start.
    public init(_ buffer: UnsafeMutableRawBufferPointer) {
        self.buffer = buffer
    }

    /// The bytes written so far.
    public var written: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buffer[0..<count])
    }

    /// Reserves `n` bytes, or marks the writer overflowed and returns nil.
    private mutating func reserve(_ n: Int) -> UnsafeMutableRawPointer? {
        guard !overflowed, n <= buffer.count - count, let base = buffer.baseAddress else {
            if n > 0 || overflowed { overflowed = true }
            return nil
        }
        defer { count += n }
        return base + count
    }

    /// Appends raw bytes.
    public mutating func write(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty, let source = bytes.baseAddress, let target = reserve(bytes.count) else { return }
        target.copyMemory(from: source, byteCount: bytes.count)
    }

    /// Appends a literal (its UTF-8 bytes).
    public mutating func write(_ s: StaticString) {
        write(UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// Appends a string's UTF-8 bytes (native strings are contiguous, so this does not copy them first).
    public mutating func write(string s: String) {
        let done: Void? = s.utf8.withContiguousStorageIfAvailable { write(UnsafeRawBufferPointer($0)) }
        if done == nil {
            for byte in s.utf8 { writeByte(byte) }
        }
    }

    /// Appends one byte.
    public mutating func writeByte(_ byte: UInt8) {
        reserve(1)?.storeBytes(of: byte, as: UInt8.self)
    }

    /// Appends `v` in decimal, with a leading "-" when negative.
    public mutating func writeDecimal(_ v: Int) {
        if v < 0 { writeByte(0x2D) }
        writeDigits(v.magnitude, radix: 10)
    }

    /// Appends `v` in lowercase hexadecimal without prefix, as chunk sizes are written (RFC 9112 §7.1).
    /// `v` must not be negative.
    public mutating func writeHexadecimal(_ v: Int) {
        precondition(v >= 0, "chunk sizes are never negative")
        writeDigits(UInt(v), radix: 16)
    }

    private mutating func writeDigits(_ value: UInt, radix: UInt) {
        var digits = 1
        var rest = value / radix
        while rest > 0 {
            digits += 1
            rest /= radix
        }
        guard let target = reserve(digits) else { return }
        var v = value
        for k in stride(from: digits - 1, through: 0, by: -1) {
            let d = UInt8(truncatingIfNeeded: v % radix)
            target.storeBytes(of: d < 10 ? 0x30 + d : 0x57 + d, toByteOffset: k, as: UInt8.self)
            v /= radix
        }
    }
}
