/// `method SP request-target SP HTTP-version CRLF` (RFC 9112 §3), parsed from a complete head.
struct RequestLine {
    var method: HTTPMethod
    var methodLength: Int
    var targetStart: Int
    var targetLength: Int
    var target: RequestTarget
    var version: HTTPVersion
    /// Bytes of the line including its CRLF: the first field line starts here.
    var length: Int

    /// Parses the line at `base[0...]`; the head around it is complete, so the line ends in CRLF.
    static func parse(_ base: UnsafePointer<UInt8>, maxURIBytes: Int) -> Result<RequestLine, HTTPParseError> {
        var i = 0
        while ASCII.isToken(base[i]) { i += 1 }
        guard i > 0, base[i] == ASCII.sp else {
            return .failure(FieldLineParser.error(at: i, base, otherwise: .invalidMethod))
        }
        let methodLength = i
        let method = classifyMethod(base, length: methodLength)
        i += 1
        let targetStart = i
        // RFC 9112 §3.2: no whitespace or CTL in the target; "#" never belongs in one (RFC 9110 §7.1).
        while base[i] > ASCII.sp && base[i] < 0x7F && base[i] != 0x23 { i += 1 }
        let targetLength = i - targetStart
        guard base[i] == ASCII.sp, targetLength > 0 else {
            // "GET /\r\n" is HTTP/0.9, which we do not speak.
            let otherwise: HTTPParseError = base[i] == ASCII.cr && targetLength > 0 ? .invalidVersion : .invalidTarget
            return .failure(FieldLineParser.error(at: i, base, otherwise: otherwise))
        }
        if targetLength > maxURIBytes { return .failure(.uriTooLong) }
        i += 1
        guard let version = parseVersion(base, at: i) else {
            var j = i
            while base[j] != ASCII.cr && base[j] != 0 { j += 1 }
            return .failure(FieldLineParser.error(at: j, base, otherwise: .invalidVersion))
        }
        let target: RequestTarget
        switch RequestTarget.parse(base, start: targetStart, length: targetLength, method: method) {
        case .success(let parsed): target = parsed
        case .failure(let error): return .failure(error)
        }
        return .success(
            RequestLine(
                method: method, methodLength: methodLength, targetStart: targetStart, targetLength: targetLength,
                target: target, version: version, length: i + 10))
    }

    /// Exactly `HTTP/1.1` or `HTTP/1.0` followed by CRLF (RFC 9112 §2.3: the name is case-sensitive).
    static func parseVersion(_ base: UnsafePointer<UInt8>, at i: Int) -> HTTPVersion? {
        let prefix: StaticString = "HTTP/1."
        let p = prefix.utf8Start
        for k in 0..<7 where base[i + k] != p[k] { return nil }
        let version: HTTPVersion
        switch base[i + 7] {
        case 0x31: version = .http11
        case 0x30: version = .http10
        default: return nil
        }
        return base[i + 8] == ASCII.cr && base[i + 9] == ASCII.lf ? version : nil
    }

    /// Methods are case-sensitive (RFC 9110 §9.1); switch on length first so each candidate is one compare.
    static func classifyMethod(_ base: UnsafePointer<UInt8>, length: Int) -> HTTPMethod {
        let m = UnsafeRawBufferPointer(start: base, count: length)
        switch length {
        case 3: return equals(m, "GET") ? .get : equals(m, "PUT") ? .put : .other
        case 4: return equals(m, "POST") ? .post : equals(m, "HEAD") ? .head : .other
        case 5: return equals(m, "PATCH") ? .patch : equals(m, "TRACE") ? .trace : .other
        case 6: return equals(m, "DELETE") ? .delete : .other
        case 7: return equals(m, "OPTIONS") ? .options : equals(m, "CONNECT") ? .connect : .other
        default: return .other
        }
    }

    private static func equals(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        bytes.count == literal.utf8CodeUnitCount && memcmpEqual(bytes, literal)
    }

    private static func memcmpEqual(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        let p = literal.utf8Start
        for k in 0..<bytes.count where bytes[k] != p[k] { return false }
        return true
    }
}
