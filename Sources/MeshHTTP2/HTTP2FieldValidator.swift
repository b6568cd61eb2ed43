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
        if name.isEmpty { return .invalidName }
        for byte in name where !isTokenByte(byte) || (byte >= 0x41 && byte <= 0x5A) {
            return byte >= 0x41 && byte <= 0x5A ? .uppercaseName : .invalidName
        }
        for forbidden in connectionSpecific where name.equalsBytes(forbidden.utf8) { return .connectionSpecificField }
        if name.equals("te") {
            return equalsIgnoringCase(value, "trailers") ? nil : .invalidTE
        }
        if name.equals("content-length") {
            guard let parsed = parseDecimal(value), contentLength == nil || contentLength == parsed else {
                return .invalidContentLength
            }
            contentLength = parsed
        }
        return nil
    }

    /// §8.2.1: no NUL, CR or LF anywhere, no leading or trailing SP/HTAB.
    static func checkValue(_ value: ArraySlice<UInt8>) -> HTTP2Malformation? {
        for byte in value where byte == 0 || byte == 0x0A || byte == 0x0D { return .invalidValue }
        if let first = value.first, first == 0x20 || first == 0x09 { return .invalidValue }
        if let last = value.last, last == 0x20 || last == 0x09 { return .invalidValue }
        return nil
    }

    static let connectionSpecific = ["connection", "proxy-connection", "keep-alive", "transfer-encoding", "upgrade"]

    /// RFC 9110 §5.6.2 tchar.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    static func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lower: String) -> Bool {
        bytes.count == lower.utf8.count && zip(bytes, lower.utf8).allSatisfy { ($0 | 0x20) == $1 }
    }

    /// 1*DIGIT up to 18 digits (fits in Int without overflow checks).
    static func parseDecimal(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }
}
