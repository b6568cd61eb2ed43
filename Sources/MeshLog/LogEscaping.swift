/// JSON string escaping with redaction, for every string value that goes into a log line.
///
/// Escaping follows RFC 8259 §7: `"` and `\` are escaped, control characters below U+0020 become `\n`, `\r`,
/// `\t`, `\b`, `\f` or `\u00XX`; everything else (valid UTF-8 from a Swift `String`) is copied as is.
///
/// Redaction (SPEC §5: "Tokens, secrets and query strings' `access_token` never appear in logs"):
/// - `access_token=<value>` (any case): the value, up to `&`, `;`, `#`, a quote, a comma or whitespace,
///   becomes `[REDACTED]`;
/// - `Bearer <credentials>` (any case, RFC 6750 §2.1): the credentials become `[REDACTED]`.
public enum LogEscaping {
    /// What replaces a redacted value.
    public static let redacted: StaticString = "[REDACTED]"

    /// Appends `"s"` escaped and redacted.
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { appendString($0, to: &out) }
    }

    /// Appends `"bytes"` (UTF-8) escaped and redacted.
    public static func appendString(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "a") || b == UInt8(ascii: "A") || b == UInt8(ascii: "b") || b == UInt8(ascii: "B") {
                if let secretStart = secretValueStart(bytes, at: i) {
                    appendEscaped(UnsafeBufferPointer(rebasing: bytes[i..<secretStart]), to: &out)
                    redacted.withUTF8Buffer { out.append(contentsOf: $0) }
                    i = secretEnd(bytes, from: secretStart)
                    continue
                }
            }
            appendEscapedByte(b, to: &out)
            i += 1
        }
        out.append(UInt8(ascii: "\""))
    }

    /// If `access_token=` or `bearer ` starts at `i`, the offset where the secret value starts.
    static func secretValueStart(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> Int? {
        if matches(bytes, at: i, "access_token=") { return i + 13 }
        if matches(bytes, at: i, "bearer ") {
            var j = i + 7
            while j < bytes.count, bytes[j] == UInt8(ascii: " ") { j += 1 }
            return j < bytes.count ? j : nil
        }
        return nil
    }

    /// The end of a secret value: the first delimiter byte at or after `start`.
    static func secretEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var j = start
        while j < bytes.count {
            switch bytes[j] {
            case UInt8(ascii: "&"), UInt8(ascii: ";"), UInt8(ascii: "#"), UInt8(ascii: "\""), UInt8(ascii: "'"),
                UInt8(ascii: ","), UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                return j
            default:
                j += 1
            }
        }
        return j
    }

    /// ASCII case-insensitive match of the lowercase `needle` at `i`.
    static func matches(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int, _ needle: StaticString) -> Bool {
        needle.withUTF8Buffer { n in
            guard bytes.count - i >= n.count else { return false }
            for k in 0..<n.count {
                let c = bytes[i + k]
                let lower = c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") ? c | 0x20 : c
                if lower != n[k] { return false }
            }
            return true
        }
    }

    static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        for b in bytes { appendEscapedByte(b, to: &out) }
    }

    @inline(__always)
    static func appendEscapedByte(_ b: UInt8, to out: inout [UInt8]) {
        switch b {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"):
            out.append(UInt8(ascii: "\\"))
            out.append(b)
        case 0x0A: appendPair(UInt8(ascii: "n"), &out)
        case 0x0D: appendPair(UInt8(ascii: "r"), &out)
        case 0x09: appendPair(UInt8(ascii: "t"), &out)
        case 0x08: appendPair(UInt8(ascii: "b"), &out)
        case 0x0C: appendPair(UInt8(ascii: "f"), &out)
        case 0..<0x20:
            let hex: StaticString = "0123456789abcdef"
            appendPair(UInt8(ascii: "u"), &out)
            out.append(UInt8(ascii: "0"))
            out.append(UInt8(ascii: "0"))
            hex.withUTF8Buffer { h in
                out.append(h[Int(b >> 4)])
                out.append(h[Int(b & 0xF)])
            }
        default:
            out.append(b)
        }
    }

    @inline(__always)
    private static func appendPair(_ letter: UInt8, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\"))
        out.append(letter)
    }
}
