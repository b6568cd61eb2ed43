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
    public static func appendString<Sink: ByteSink>(_ s: String, to out: inout Sink) {
        var s = s
        s.withUTF8 { appendString($0, to: &out) }
    }

    /// Appends `"bytes"` (UTF-8) escaped and redacted.
    ///
    /// Plain runs are copied with one append each (a per-byte append costs a uniqueness check every time);
    /// only `"`, `\\`, control bytes and an actual secret marker stop a run.
    public static func appendString<Sink: ByteSink>(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout Sink) {
        out.append(UInt8(ascii: "\""))
        var i = 0
        var runStart = 0
        while i < bytes.count {
            let b = bytes[i]
            let folded = b | 0x20
            if b >= 0x20 && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") {
                // `a`/`b` followed by `c`/`e` may start `access_token=` / `bearer `: look closer only then.
                guard folded == 0x61 || folded == 0x62, i + 1 < bytes.count,
                    bytes[i + 1] | 0x20 == (folded == 0x61 ? 0x63 : 0x65),
                    let secretStart = secretValueStart(bytes, at: i)
                else {
                    i += 1
                    continue
                }
                if runStart < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i])) }
                appendEscaped(UnsafeBufferPointer(rebasing: bytes[i..<secretStart]), to: &out)
                redacted.withUTF8Buffer { out.append(contentsOf: $0) }
                i = secretEnd(bytes, from: secretStart)
                runStart = i
                continue
            }
            if runStart < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i])) }
            appendEscapedByte(b, to: &out)
            i += 1
            runStart = i
        }
        if runStart < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i])) }
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

    static func appendEscaped<Sink: ByteSink>(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout Sink) {
        for b in bytes { appendEscapedByte(b, to: &out) }
    }

    @inline(__always)
    static func appendEscapedByte<Sink: ByteSink>(_ b: UInt8, to out: inout Sink) {
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
    private static func appendPair<Sink: ByteSink>(_ letter: UInt8, _ out: inout Sink) {
        out.append(UInt8(ascii: "\\"))
        out.append(letter)
    }
}
