/// The pieces of a request-target (RFC 9112 §3.2), as offsets into the head's buffer.
struct RequestTarget {
    var form: RequestTargetForm
    var authorityStart = 0
    var authorityLength = 0
    var pathStart = 0
    var pathLength = 0
    var queryStart = 0
    var queryLength = 0

    /// Splits and checks the target at `base[start..<start+length]`, already known to hold only VCHARs.
    ///
    /// Rules: `*` only with OPTIONS (§3.2.4); authority-form only and always with CONNECT (§3.2.3); absolute-form
    /// only with an `http`/`https` scheme (we are an HTTP proxy, not a gateway for other schemes).
    static func parse(_ base: UnsafePointer<UInt8>, start: Int, length: Int, method: HTTPMethod)
        -> Result<RequestTarget, HTTPParseError>
    {
        let target = UnsafeRawBufferPointer(start: base + start, count: length)
        if method == .connect {
            guard Authority.isValid(target, requirePort: true, allowEmpty: false) else {
                return .failure(.invalidTarget)
            }
            return .success(RequestTarget(form: .authority, authorityStart: start, authorityLength: length))
        }
        if target[0] == ASCII.slash {
            var parts = RequestTarget(form: .origin)
            parts.splitPathAndQuery(target, offset: start, from: 0)
            return .success(parts)
        }
        if length == 1 && target[0] == 0x2A {  // "*"
            return method == .options ? .success(RequestTarget(form: .asterisk)) : .failure(.invalidTarget)
        }
        return parseAbsolute(target, offset: start)
    }

    /// absolute-form: `http://authority[/path][?query]` (RFC 9112 §3.2.2).
    private static func parseAbsolute(_ target: UnsafeRawBufferPointer, offset: Int)
        -> Result<RequestTarget, HTTPParseError>
    {
        let schemeLength: Int
        if hasPrefix(target, "http://") {
            schemeLength = 7
        } else if hasPrefix(target, "https://") {
            schemeLength = 8
        } else {
            return .failure(.invalidTarget)
        }
        var i = schemeLength
        while i < target.count && target[i] != ASCII.slash && target[i] != ASCII.question { i += 1 }
        let authority = UnsafeRawBufferPointer(rebasing: target[schemeLength..<i])
        guard Authority.isValid(authority, requirePort: false, allowEmpty: false) else {
            return .failure(.invalidTarget)
        }
        var parts = RequestTarget(
            form: .absolute, authorityStart: offset + schemeLength, authorityLength: i - schemeLength)
        parts.splitPathAndQuery(target, offset: offset, from: i)
        return .success(parts)
    }

    /// Path runs from `from` to the first "?", the query (with its "?") from there to the end.
    private mutating func splitPathAndQuery(_ target: UnsafeRawBufferPointer, offset: Int, from: Int) {
        var i = from
        while i < target.count && target[i] != ASCII.question { i += 1 }
        pathStart = offset + from
        pathLength = i - from
        if i < target.count {
            queryStart = offset + i
            queryLength = target.count - i
        }
    }

    /// Case-insensitive prefix test against a lowercase literal (schemes are case-insensitive, RFC 3986 §3.1).
    private static func hasPrefix(_ target: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        let n = lowercase.utf8CodeUnitCount
        guard target.count >= n else { return false }
        return asciiCaseInsensitiveEquals(UnsafeRawBufferPointer(rebasing: target[0..<n]), lowercase)
    }
}
