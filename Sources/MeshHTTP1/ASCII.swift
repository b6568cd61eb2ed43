// Byte classes of RFC 9110 §5.6.2 (token), §5.5 (field values) and RFC 3986 §2.3/§3.2.2 (URI characters),
// as 128-bit masks so each test is a shift and an AND instead of a chain of comparisons.

/// Byte classification helpers used by every parser in the module.
enum ASCII {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let sp: UInt8 = 0x20
    static let htab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let comma: UInt8 = 0x2C
    static let semicolon: UInt8 = 0x3B
    static let slash: UInt8 = 0x2F
    static let question: UInt8 = 0x3F
    static let percent: UInt8 = 0x25
    static let dot: UInt8 = 0x2E
    static let quote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C
    static let equals: UInt8 = 0x3D

    // tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
    private static let tokenLow: UInt64 = 0x03ff_6cfa_0000_0000
    private static let tokenHigh: UInt64 = 0x57ff_ffff_c7ff_fffe
    // unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
    private static let unreservedLow: UInt64 = 0x03ff_6000_0000_0000
    private static let unreservedHigh: UInt64 = 0x47ff_fffe_87ff_fffe
    // host[:port] bytes: unreserved / sub-delims / ":" / "[" / "]" / "%" (reg-name, IP-literal, pct-encoded, port)
    private static let authorityLow: UInt64 = 0x2fff_7ff2_0000_0000
    private static let authorityHigh: UInt64 = 0x47ff_fffe_afff_fffe

    @inline(__always)
    private static func inMask(_ b: UInt8, _ low: UInt64, _ high: UInt64) -> Bool {
        if b < 64 { return (low >> UInt64(b)) & 1 != 0 }
        if b < 128 { return (high >> UInt64(b &- 64)) & 1 != 0 }
        return false
    }

    /// Whether `b` is a tchar (RFC 9110 §5.6.2).
    @inline(__always) static func isToken(_ b: UInt8) -> Bool { inMask(b, tokenLow, tokenHigh) }

    /// Whether `b` is an unreserved URI character (RFC 3986 §2.3).
    @inline(__always) static func isUnreserved(_ b: UInt8) -> Bool { inMask(b, unreservedLow, unreservedHigh) }

    /// Whether `b` may appear in `host[:port]` (RFC 3986 §3.2.2, §3.2.3).
    @inline(__always) static func isAuthority(_ b: UInt8) -> Bool { inMask(b, authorityLow, authorityHigh) }

    /// Whether `b` is allowed inside a field value: VCHAR, obs-text, SP or HTAB (RFC 9110 §5.5).
    @inline(__always) static func isFieldValue(_ b: UInt8) -> Bool {
        b >= 0x20 ? b != 0x7F : b == htab
    }

    /// Whether `b` is SP or HTAB (OWS, RFC 9110 §5.6.3).
    @inline(__always) static func isWhitespace(_ b: UInt8) -> Bool { b == sp || b == htab }

    /// The value of a hex digit, or nil.
    @inline(__always) static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b &- 0x30
        case 0x41...0x46: return b &- 0x37
        case 0x61...0x66: return b &- 0x57
        default: return nil
        }
    }

    /// ASCII lowercase of `b` (non-letters unchanged).
    @inline(__always) static func lower(_ b: UInt8) -> UInt8 {
        (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b
    }

    /// `lower` of each of the eight bytes of `word` (SWAR: a byte's high bit marks A...Z, shifted to 0x20).
    @inline(__always) static func lowered(_ word: UInt64) -> UInt64 {
        let heptets = word & 0x7F7F_7F7F_7F7F_7F7F
        let fromA = heptets &+ 0x3F3F_3F3F_3F3F_3F3F  // high bit set where the byte is ≥ "A" (0x41)
        let pastZ = heptets &+ 0x2525_2525_2525_2525  // high bit set where the byte is > "Z" (0x5A)
        let upper = fromA & ~pastZ & ~word & 0x8080_8080_8080_8080
        return word | upper >> 2
    }
}

/// ASCII case-insensitive compare of a header name in a buffer against a lowercase literal.
///
/// `lowercase` must be ASCII lowercase; bytes of `bytes` are folded with ASCII rules only (no Unicode), so a
/// name like `Content-Length` equals `"content-length"`. Different lengths are never equal.
public func asciiCaseInsensitiveEquals(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
    let count = lowercase.utf8CodeUnitCount
    guard bytes.count == count else { return false }
    let literal = UnsafeRawPointer(lowercase.utf8Start)
    guard count >= 4, let base = bytes.baseAddress else {
        for i in 0..<count where ASCII.lower(bytes[i]) != literal.load(fromByteOffset: i, as: UInt8.self) {
            return false
        }
        return true
    }
    if count < 8 {
        // Two overlapping 4-byte halves in one word.
        @inline(__always) func halves(_ p: UnsafeRawPointer) -> UInt64 {
            UInt64(p.loadUnaligned(as: UInt32.self)) << 32
                | UInt64(p.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self))
        }
        return ASCII.lowered(halves(base)) == halves(literal)
    }
    // Eight bytes at a time (the last word overlaps the one before it): field names are 4 to 17 bytes, and
    // this runs for every known field of every head.
    var i = 0
    while true {
        let word = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        guard ASCII.lowered(word) == literal.loadUnaligned(fromByteOffset: i, as: UInt64.self) else { return false }
        if i == count - 8 { return true }
        i = min(i + 8, count - 8)
    }
}
