/// The RFC 9113 §8.1.1 and §8.2 rules every field section must follow, in either direction: requests and responses,
/// headers and trailers. The pseudo-header rules differ by direction and live in `RequestValidator` (§8.3.1) and
/// `ResponseValidator` (§8.3.2).
enum HTTP2FieldValidator {
    /// Validates a trailer section.
    static func trailers(_ fields: HTTP2HeaderList) -> HTTP2Malformation? {
        var ignored: Int?
        for i in 0..<fields.count {
            let name = fields.name(i)
            if name.first == UInt8(ascii: ":") { return .pseudoInTrailers }
            if let error = checkValue(fields.value(i)) ?? checkRegular(name, fields.value(i), contentLength: &ignored) {
                return error
            }
        }
        return nil
    }

    /// A regular (non-pseudo) field: a lowercase token name (§8.2.1), not connection-specific (§8.2.2), `te` only
    /// as `trailers`, `content-length` digits and consistent when repeated (recorded in `contentLength`).
    static func checkRegular(_ name: ArraySlice<UInt8>, _ value: ArraySlice<UInt8>, contentLength: inout Int?)
        -> HTTP2Malformation?
    {
        name.withUnsafeBytes { n in value.withUnsafeBytes { v in checkRegular(n, v, contentLength: &contentLength) } }
    }

    /// `checkRegular` over raw bytes (a list's storage, read once for a whole head).
    static func checkRegular(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, contentLength: inout Int?)
        -> HTTP2Malformation?
    {
        if name.isEmpty { return .invalidName }
        for byte in name where !isLowercaseTokenByte(byte) {
            return byte >= 0x41 && byte <= 0x5A ? .uppercaseName : .invalidName
        }
        switch name.count {
        case 2 where name.equals("te"):
            return equalsIgnoringCase(value, "trailers") ? nil : .invalidTE
        case 7 where name.equals("upgrade"), 10 where name.equals("connection") || name.equals("keep-alive"),
            16 where name.equals("proxy-connection"), 17 where name.equals("transfer-encoding"):
            return .connectionSpecificField
        case 14 where name.equals("content-length"):
            guard let parsed = parseDecimal(value), contentLength == nil || contentLength == parsed else {
                return .invalidContentLength
            }
            contentLength = parsed
            return nil
        default:
            return nil
        }
    }

    /// §8.2.1: no NUL, CR or LF anywhere, no leading or trailing SP/HTAB.
    static func checkValue(_ value: ArraySlice<UInt8>) -> HTTP2Malformation? {
        value.withUnsafeBytes { checkValue($0) }
    }

    /// `checkValue` over raw bytes.
    static func checkValue(_ value: UnsafeRawBufferPointer) -> HTTP2Malformation? {
        for byte in value where byte <= 0x0D && (byte == 0 || byte == 0x0A || byte == 0x0D) { return .invalidValue }
        if let first = value.first, first == 0x20 || first == 0x09 { return .invalidValue }
        if let last = value.last, last == 0x20 || last == 0x09 { return .invalidValue }
        return nil
    }

    /// RFC 9110 §5.6.2 tchar as a bit set over octets 0–63 and 64–127 (none above): `!#$%&'*+-.^_`|~`, digits,
    /// letters.
    private static let tokenBitsLow: UInt64 = 0x03FF_6CFA_0000_0000
    private static let tokenBitsHigh: UInt64 = 0x57FF_FFFF_C7FF_FFFE

    /// RFC 9110 §5.6.2 tchar.
    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool {
        let word = byte < 64 ? tokenBitsLow : byte < 128 ? tokenBitsHigh : 0
        return word >> UInt64(byte & 63) & 1 == 1
    }

    /// A tchar that is not an uppercase letter (§8.2.1: field names are lowercase).
    @inline(__always)
    static func isLowercaseTokenByte(_ byte: UInt8) -> Bool {
        isTokenByte(byte) && !(byte >= 0x41 && byte <= 0x5A)
    }

    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lower: StaticString) -> Bool {
        let literal = UnsafeRawBufferPointer(start: lower.utf8Start, count: lower.utf8CodeUnitCount)
        return bytes.count == literal.count && zip(bytes, literal).allSatisfy { ($0 | 0x20) == $1 }
    }

    /// 1*DIGIT up to 18 digits (fits in Int without overflow checks).
    static func parseDecimal(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }
}
