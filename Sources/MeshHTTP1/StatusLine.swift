/// `HTTP-version SP status-code SP [ reason-phrase ] CRLF` (RFC 9112 §4).
struct StatusLine {
    var version: HTTPVersion
    var status: Int
    var reasonStart: Int
    var reasonLength: Int
    /// Bytes of the line including its CRLF.
    var length: Int

    /// Parses the line at `base[0...]` of a complete head. A missing SP before an empty reason is tolerated
    /// (`HTTP/1.1 200\r\n`), as RFC 9112 §4 suggests for robustness.
    static func parse(_ base: UnsafePointer<UInt8>) -> Result<StatusLine, HTTPParseError> {
        var i = 0
        while base[i] != ASCII.cr && base[i] != ASCII.sp && base[i] != 0 { i += 1 }
        guard i == 8, base[8] == ASCII.sp, let version = versionAt(base) else {
            return .failure(FieldLineParser.error(at: i, base, otherwise: .invalidVersion))
        }
        var status = 0
        for k in 9..<12 {
            let b = base[k]
            guard b >= 0x30 && b <= 0x39 else {
                return .failure(FieldLineParser.error(at: k, base, otherwise: .invalidStatus))
            }
            status = status * 10 + Int(b &- 0x30)
        }
        guard (100...599).contains(status) else { return .failure(.invalidStatus) }
        i = 12
        var reasonStart = 12
        if base[i] == ASCII.sp {
            i += 1
            reasonStart = i
            while base[i] != ASCII.cr {
                guard ASCII.isFieldValue(base[i]) else {
                    return .failure(base[i] == 0 ? .nulInHead : .invalidStatus)
                }
                i += 1
            }
        }
        guard base[i] == ASCII.cr else {
            return .failure(FieldLineParser.error(at: i, base, otherwise: .invalidStatus))
        }
        guard base[i + 1] == ASCII.lf else { return .failure(.bareCR) }
        return .success(
            StatusLine(
                version: version, status: status, reasonStart: reasonStart, reasonLength: i - reasonStart, length: i + 2
            ))
    }

    private static func versionAt(_ base: UnsafePointer<UInt8>) -> HTTPVersion? {
        let prefix: StaticString = "HTTP/1."
        let p = prefix.utf8Start
        for k in 0..<7 where base[k] != p[k] { return nil }
        switch base[7] {
        case 0x31: return .http11
        case 0x30: return .http10
        default: return nil
        }
    }
}
