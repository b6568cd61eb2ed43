/// Strict base64url (RFC 4648 §5) without padding, as JWS compact serialisation requires (RFC 7515 §2).
///
/// Decoding rejects anything a canonical encoder would not produce: characters outside `A-Z a-z 0-9 - _`,
/// padding, whitespace, impossible lengths (`count % 4 == 1`) and non-zero trailing bits (RFC 4648 §3.5), so
/// one byte string has exactly one accepted encoding and tokens cannot be varied without changing their bytes.
public enum Base64URL {
    /// Number of bytes `encodedCount` base64url characters decode to, or nil when the length is impossible.
    public static func decodedCount(ofEncodedCount encodedCount: Int) -> Int? {
        switch encodedCount % 4 {
        case 0: return encodedCount / 4 * 3
        case 2: return encodedCount / 4 * 3 + 1
        case 3: return encodedCount / 4 * 3 + 2
        default: return nil
        }
    }

    /// Decodes `source` into `destination` without allocating; returns the byte count or nil if `source` is not
    /// strict base64url. `destination` must hold at least `decodedCount(ofEncodedCount:)` bytes.
    public static func decode(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) -> Int?
    {
        guard let total = decodedCount(ofEncodedCount: source.count), destination.count >= total else { return nil }
        var out = 0
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in source {
            guard let sextet = value(of: byte) else { return nil }
            accumulator = (accumulator << 6) | UInt32(sextet)
            bits += 6
            if bits >= 8 {
                bits -= 8
                destination[out] = UInt8(truncatingIfNeeded: accumulator >> UInt32(bits))
                out += 1
            }
        }
        // RFC 4648 §3.5: the unused low bits of the last character must be zero in a canonical encoding.
        if bits > 0 && accumulator & ((1 << UInt32(bits)) - 1) != 0 { return nil }
        return out
    }

    /// Decodes strict base64url from raw bytes; nil when invalid.
    public static func decode(_ source: UnsafeRawBufferPointer) -> [UInt8]? {
        guard let total = decodedCount(ofEncodedCount: source.count) else { return nil }
        var failed = false
        let result = [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            guard let count = decode(source, into: UnsafeMutableRawBufferPointer(buffer)) else {
                failed = true
                initialized = 0
                return
            }
            initialized = count
        }
        return failed ? nil : result
    }

    /// Decodes strict base64url from a byte array; nil when invalid.
    public static func decode(_ source: [UInt8]) -> [UInt8]? {
        source.withUnsafeBytes { decode($0) }
    }

    /// Decodes strict base64url from a UTF-8 view (e.g. one segment of a token); nil when invalid.
    public static func decode(_ source: Substring.UTF8View) -> [UInt8]? {
        if let result = source.withContiguousStorageIfAvailable({ decode(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return decode(Array(source))
    }

    /// Decodes strict base64url from a string; nil when invalid.
    public static func decode(_ source: String) -> [UInt8]? {
        decode(Substring(source).utf8)
    }

    /// Encodes bytes as base64url without padding.
    public static func encode(_ bytes: [UInt8]) -> String {
        Base64.encode(bytes, alphabet: urlAlphabet, padding: false)
    }

    /// Encodes bytes as base64url without padding, from raw memory.
    public static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        encode(Array(bytes))
    }

    static let urlAlphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    @inline(__always)
    static func value(of byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte &- UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return byte &- UInt8(ascii: "a") &+ 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte &- UInt8(ascii: "0") &+ 52
        case UInt8(ascii: "-"): return 62
        case UInt8(ascii: "_"): return 63
        default: return nil
        }
    }
}

/// Standard base64 (RFC 4648 §4) encoding with padding, for places outside JOSE (e.g. PEM bodies, Basic auth).
public enum Base64 {
    static let standardAlphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Encodes bytes with the standard alphabet and `=` padding.
    public static func encode(_ bytes: [UInt8]) -> String {
        encode(bytes, alphabet: standardAlphabet, padding: true)
    }

    static func encode(_ bytes: [UInt8], alphabet: [UInt8], padding: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            for shift in stride(from: 18, through: 0, by: -6) {
                out.append(alphabet[Int((chunk >> UInt32(shift)) & 63)])
            }
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            var chunk = UInt32(bytes[index]) << 16
            if rest == 2 { chunk |= UInt32(bytes[index + 1]) << 8 }
            out.append(alphabet[Int((chunk >> 18) & 63)])
            out.append(alphabet[Int((chunk >> 12) & 63)])
            if rest == 2 { out.append(alphabet[Int((chunk >> 6) & 63)]) }
            if padding {
                out.append(contentsOf: rest == 2 ? [UInt8(ascii: "=")] : [UInt8(ascii: "="), UInt8(ascii: "=")])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
