/// Parses the field lines of a complete head (RFC 9112 §5), shared by the request and response parsers.
///
/// Works on a head whose every LF is known to follow a CR (the `HeadScanner` checked), so a line ends at the
/// first CR that is followed by LF; any other CR is a bare CR.
enum FieldLineParser {
    /// The error for an unexpected byte at `i`: NUL and bare CR have their own cases wherever they appear.
    @inline(__always)
    static func error(at i: Int, _ base: UnsafePointer<UInt8>, otherwise: HTTPParseError) -> HTTPParseError {
        if base[i] == 0 { return .nulInHead }
        if base[i] == ASCII.cr && base[i + 1] != ASCII.lf { return .bareCR }
        return otherwise
    }

    /// Parses field lines from `start` up to the final CRLF at `headLength - 2`, writing them into `headers` and
    /// feeding `framing`. Returns the number of fields.
    static func parse(
        _ base: UnsafePointer<UInt8>,
        start: Int,
        headLength: Int,
        headers: UnsafeMutableBufferPointer<HTTPHeaderField>,
        maxCount: Int,
        framing: inout FramingState
    ) -> Result<Int, HTTPParseError> {
        let limit = min(maxCount, headers.count)
        var count = 0
        var i = start
        while i < headLength - 2 {
            // RFC 9112 §5.2: obs-fold is rejected outright (a proxy must not unfold differently from the upstream).
            if ASCII.isWhitespace(base[i]) { return .failure(.obsFold) }
            let nameStart = i
            while ASCII.isToken(base[i]) { i += 1 }
            if base[i] != ASCII.colon || i == nameStart {
                return .failure(nameError(base, at: i, nameLength: i - nameStart))
            }
            let nameLength = i - nameStart
            i += 1
            while ASCII.isWhitespace(base[i]) { i += 1 }
            let valueStart = i
            i = skipPlainValueBytes(base, from: i, limit: headLength)
            while true {
                let b = base[i]
                if b == ASCII.cr {
                    if base[i + 1] == ASCII.lf { break }
                    return .failure(.bareCR)
                }
                guard ASCII.isFieldValue(b) else { return .failure(b == 0 ? .nulInHead : .invalidHeaderValue) }
                i += 1
            }
            var valueEnd = i
            while valueEnd > valueStart && ASCII.isWhitespace(base[valueEnd - 1]) { valueEnd -= 1 }
            i += 2
            guard count < limit else { return .failure(.tooManyHeaders) }
            let field = HTTPHeaderField(
                nameStart: Int32(nameStart), nameLength: Int32(nameLength),
                valueStart: Int32(valueStart), valueLength: Int32(valueEnd - valueStart),
                known: KnownHeader.classify(UnsafeRawBufferPointer(start: base + nameStart, count: nameLength)))
            headers[count] = field
            if field.known != .other { framing.observe(field, index: count, base: base) }
            count += 1
        }
        return .success(count)
    }

    /// Skips 8 bytes at a time while none is a CTL or DEL (the common case for values: VCHAR, SP, obs-text);
    /// the byte loop after it handles the rest of the line. Never reads at or past `limit`.
    @inline(__always)
    private static func skipPlainValueBytes(_ base: UnsafePointer<UInt8>, from start: Int, limit: Int) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        var i = start
        while i + 8 <= limit {
            let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            // Bit-twiddling "has a byte less than n": some byte < 0x20, or (after XOR) some byte == 0x7F.
            let hasControl = (w &- ones &* 0x20) & ~w & highs
            let del = w ^ (ones &* 0x7F)
            let hasDelete = (del &- ones) & ~del & highs
            if hasControl | hasDelete != 0 { break }
            i += 8
        }
        return i
    }

    /// Distinguishes `Name : value` (RFC 9112 §5.1 MUST reject with 400) from other malformed names.
    private static func nameError(_ base: UnsafePointer<UInt8>, at i: Int, nameLength: Int) -> HTTPParseError {
        var j = i
        while ASCII.isWhitespace(base[j]) { j += 1 }
        if nameLength > 0 && j > i && base[j] == ASCII.colon { return .whitespaceBeforeColon }
        return error(at: i, base, otherwise: .invalidHeaderName)
    }
}
