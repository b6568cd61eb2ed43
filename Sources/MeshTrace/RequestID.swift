/// `x-request-id` handling (SPEC §5): keep a sane incoming id, otherwise generate one.
///
/// Generated ids are 32 lowercase hex digits (128 random bits), the same shape as a trace-id: compact, easy to
/// grep, and free of dashes so they never need quoting. (Chosen over the 36-char UUID form; both are sane.)
public enum RequestID {
    /// Longest incoming id kept.
    public static let maxLength = 128
    /// Length of a generated id.
    public static let generatedLength = 32

    /// True for 1…128 bytes of visible ASCII (0x21–0x7E): safe to log and to forward in a header.
    public static func isSane(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard (1...maxLength).contains(bytes.count) else { return false }
        for byte in bytes where !(0x21...0x7E).contains(byte) { return false }
        return true
    }

    /// `isSane` for a string value.
    public static func isSane(_ value: some StringProtocol) -> Bool {
        var copy = String(value)
        return copy.withUTF8 { isSane(UnsafeRawBufferPointer($0)) }
    }

    /// Writes a new 32-hex-digit id from caller-supplied random words; returns 32.
    ///
    /// - Precondition: `out.count >= 32`.
    @discardableResult
    public static func generate(random: (UInt64, UInt64), into out: UnsafeMutableRawBufferPointer) -> Int {
        precondition(out.count >= generatedLength, "a request id needs 32 bytes")
        Hex.write(random.0, count: 16, into: out, at: 0)
        Hex.write(random.1, count: 16, into: out, at: 16)
        return generatedLength
    }

    /// A new id as a String.
    public static func generate(random: (UInt64, UInt64)) -> String {
        String(unsafeUninitializedCapacity: generatedLength) {
            generate(random: random, into: UnsafeMutableRawBufferPointer($0))
        }
    }
}
