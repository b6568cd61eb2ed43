/// What the framing-relevant fields of one head said, accumulated while the field lines are parsed so the
/// checks of RFC 9112 §6 need no second pass over the headers.
struct FramingState {
    /// The agreed Content-Length, -1 when none was sent.
    var contentLength = -1
    /// The first Content-Length problem (invalid or conflicting), reported after the whole head is read.
    var contentLengthError: HTTPParseError?
    /// How many Transfer-Encoding field lines were present.
    var transferEncodingCount = 0
    /// Whether every Transfer-Encoding field line was exactly `chunked`.
    var transferEncodingIsChunked = true
    /// Index of the first Host field line, -1 if none.
    var hostIndex: Int32 = -1
    /// How many Host field lines were present.
    var hostCount = 0
    /// Whether a Host value is not a valid `uri-host [ ":" port ]`.
    var hostInvalid = false
    /// Connection tokens seen (RFC 9110 §7.6.1).
    var connectionClose = false
    /// `keep-alive` in Connection.
    var connectionKeepAlive = false
    /// `upgrade` in Connection.
    var connectionUpgrade = false
    /// Connection named some other token (those headers are hop-by-hop too).
    var connectionCustom = false
    /// An Upgrade field line was present.
    var hasUpgrade = false
    /// `Expect: 100-continue` was present.
    var expectContinue = false
    /// An Expect value other than `100-continue` was present.
    var expectOther = false

    /// Records field number `index`, whose bytes live in `base`.
    mutating func observe(_ field: HTTPHeaderField, index: Int, base: UnsafePointer<UInt8>) {
        let value = UnsafeRawBufferPointer(start: base + Int(field.valueStart), count: Int(field.valueLength))
        switch field.known {
        case .contentLength: observeContentLength(value)
        case .transferEncoding:
            // We decode only `chunked`; a coding list (even "chunked, chunked" or a second line) is refused
            // rather than interpreted, like Go's net/http.
            transferEncodingCount += 1
            if !asciiCaseInsensitiveEquals(value, "chunked") { transferEncodingIsChunked = false }
        case .host:
            hostCount += 1
            if hostCount == 1 { hostIndex = Int32(index) }
            if !Authority.isValid(value, requirePort: false, allowEmpty: true) { hostInvalid = true }
        case .connection: observeConnection(value)
        case .upgrade: hasUpgrade = true
        case .expect:
            if asciiCaseInsensitiveEquals(value, "100-continue") { expectContinue = true } else { expectOther = true }
        default: break
        }
    }

    /// RFC 9112 §6.3 rule 5 / RFC 9110 §8.6: a list of identical values collapses; anything else is an error.
    private mutating func observeContentLength(_ value: UnsafeRawBufferPointer) {
        guard contentLengthError == nil else { return }
        var i = 0
        while true {
            while i < value.count && ASCII.isWhitespace(value[i]) { i += 1 }
            var n = 0
            let digitsStart = i
            while i < value.count, value[i] >= 0x30, value[i] <= 0x39 {
                let (times10, o1) = n.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(Int(value[i] &- 0x30))
                if o1 || o2 { contentLengthError = .invalidContentLength; return }
                n = sum
                i += 1
            }
            if i == digitsStart { contentLengthError = .invalidContentLength; return }
            if contentLength >= 0 && contentLength != n { contentLengthError = .conflictingContentLength; return }
            contentLength = n
            while i < value.count && ASCII.isWhitespace(value[i]) { i += 1 }
            if i == value.count { break }
            if value[i] != ASCII.comma { contentLengthError = .invalidContentLength; return }
            i += 1
        }
    }

    /// Splits Connection's comma list (RFC 9110 §7.6.1); empty elements are allowed by RFC 9110 §5.6.1.
    private mutating func observeConnection(_ value: UnsafeRawBufferPointer) {
        var i = 0
        while i < value.count {
            while i < value.count && (ASCII.isWhitespace(value[i]) || value[i] == ASCII.comma) { i += 1 }
            let start = i
            while i < value.count && value[i] != ASCII.comma && !ASCII.isWhitespace(value[i]) { i += 1 }
            if i == start { continue }
            let token = UnsafeRawBufferPointer(rebasing: value[start..<i])
            if asciiCaseInsensitiveEquals(token, "close") {
                connectionClose = true
            } else if asciiCaseInsensitiveEquals(token, "keep-alive") {
                connectionKeepAlive = true
            } else if asciiCaseInsensitiveEquals(token, "upgrade") {
                connectionUpgrade = true
            } else {
                connectionCustom = true
            }
        }
    }

    /// The Transfer-Encoding / Content-Length checks common to requests and responses (RFC 9112 §6.1, §6.3).
    func bodyError(version: HTTPVersion) -> HTTPParseError? {
        if let contentLengthError { return contentLengthError }
        guard transferEncodingCount > 0 else { return nil }
        // RFC 9112 §6.3 rule 3: CL and TE together is the classic smuggling vector; reject, never pick one.
        if contentLength >= 0 { return .contentLengthAndTransferEncoding }
        // RFC 9112 §6.1: TE in an HTTP/1.0 message is faulty framing.
        if version == .http10 || transferEncodingCount > 1 || !transferEncodingIsChunked {
            return .unsupportedTransferEncoding
        }
        return nil
    }

    /// Whether the connection may stay open after this message (RFC 9112 §9.3).
    func persistent(version: HTTPVersion) -> Bool {
        if connectionClose { return false }
        return version == .http11 || connectionKeepAlive
    }
}
