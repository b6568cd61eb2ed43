/// Sans-IO parser for HTTP/1.1 request heads (RFC 9112 §3, §5, §6), in the style of picohttpparser: it borrows the
/// caller's bytes, writes field offsets into the caller's array, allocates nothing, and resumes a partial head
/// without re-scanning it.
///
/// One parser per connection, used by one thread. Between requests call `reset()` (a `.complete` or `.invalid`
/// result resets it too).
public struct RequestParser: Sendable {
    /// The limits this parser enforces.
    public let limits: HTTPLimits
    private var scanner = HeadScanner()
    /// Offset up to which the request-target was searched for its end while the request line is incomplete.
    private var targetScanned = 0
    /// Whether the complete request line of the partial head was already validated.
    private var requestLineChecked = false

    /// Creates a parser with the given limits.
    public init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
    }

    /// Forgets any partial scan, before the next request on the connection.
    public mutating func reset() {
        scanner.reset()
        targetScanned = 0
        requestLineChecked = false
    }

    /// Parses a request head at the start of `buffer`.
    ///
    /// When `.incomplete`, call again with the same start and more bytes; the scan resumes where it stopped.
    /// A head that cannot end within `limits.maxHeaderBytes` is `.invalid(.headersTooLarge)`; a request line
    /// whose target already exceeds `limits.maxURIBytes` is `.invalid(.uriTooLong)` without waiting for the rest.
    /// `headers` must outlive the use of the result; at most `min(headers.count, maxHeaderCount)` are written.
    public mutating func parse(
        _ buffer: UnsafeRawBufferPointer,
        headers: UnsafeMutableBufferPointer<HTTPHeaderField>
    ) -> HeadParseResult<RequestHead> {
        guard let raw = buffer.baseAddress, buffer.count > 0 else { return .incomplete }
        let base = raw.assumingMemoryBound(to: UInt8.self)
        switch scanner.scan(base, count: buffer.count, limit: limits.maxHeaderBytes) {
        case .incomplete:
            let lineError = partialLineError(base, count: buffer.count)
            guard let error = unfinishedHeadError(lineError, count: buffer.count, limit: limits.maxHeaderBytes) else {
                return .incomplete
            }
            reset()
            return .invalid(error)
        case .invalid(let error):
            let lineError = partialLineError(base, count: buffer.count)
            reset()
            return .invalid(lineError ?? error)
        case .end(let headLength):
            reset()
            switch parseHead(base, headLength: headLength, headers: headers) {
            case .success(let head): return .complete(head)
            case .failure(let error): return .invalid(error)
            }
        }
    }

    /// Early rejection while the head is still arriving, so garbage is refused at once instead of after the
    /// header timeout: a non-token method byte (a TLS ClientHello on a plain port), a target already over the URI
    /// limit (414 before 431), or, once the request line is complete, any error in it (checked once).
    private mutating func partialLineError(_ base: UnsafePointer<UInt8>, count: Int) -> HTTPParseError? {
        if scanner.startLineEnded {
            guard !requestLineChecked else { return nil }
            requestLineChecked = true
            if case .failure(let error) = RequestLine.parse(base, maxURIBytes: limits.maxURIBytes) { return error }
            return nil
        }
        var i = 0
        while i < count && i < 32 && ASCII.isToken(base[i]) { i += 1 }
        guard i < count else { return nil }
        guard base[i] == ASCII.sp, i > 0 else {
            if i == 32 { return nil }
            return base[i] == 0 ? .nulInHead : .invalidMethod
        }
        let targetStart = i + 1
        guard count - targetStart > limits.maxURIBytes else { return nil }
        var j = max(targetScanned, targetStart)
        while j < count && base[j] != ASCII.sp && base[j] != ASCII.cr { j += 1 }
        targetScanned = j
        return j - targetStart > limits.maxURIBytes ? .uriTooLong : nil
    }

    /// The one pass over a complete head.
    private func parseHead(
        _ base: UnsafePointer<UInt8>,
        headLength: Int,
        headers: UnsafeMutableBufferPointer<HTTPHeaderField>
    ) -> Result<RequestHead, HTTPParseError> {
        let line: RequestLine
        switch RequestLine.parse(base, maxURIBytes: limits.maxURIBytes) {
        case .success(let parsed): line = parsed
        case .failure(let error): return .failure(error)
        }
        var framing = FramingState()
        let headerCount: Int
        switch FieldLineParser.parse(
            base, start: line.length, headLength: headLength, headers: headers,
            maxCount: limits.maxHeaderCount, framing: &framing)
        {
        case .success(let count): headerCount = count
        case .failure(let error): return .failure(error)
        }
        if let error = Self.semanticError(framing, version: line.version) { return .failure(error) }
        let http11 = line.version == .http11
        // RFC 9112 §6.3 rules 4-7 for requests: chunked, else Content-Length, else no body (never until-close).
        var body = BodyFraming.none
        if framing.transferEncodingCount > 0 {
            body = .chunked
        } else if framing.contentLength >= 0 {
            body = .contentLength(framing.contentLength)
        }
        return .success(
            RequestHead(
                method: line.method, methodLength: Int32(line.methodLength),
                targetStart: Int32(line.targetStart), targetLength: Int32(line.targetLength), form: line.target.form,
                authorityStart: Int32(line.target.authorityStart), authorityLength: Int32(line.target.authorityLength),
                pathStart: Int32(line.target.pathStart), pathLength: Int32(line.target.pathLength),
                queryStart: Int32(line.target.queryStart), queryLength: Int32(line.target.queryLength),
                version: line.version, headerCount: headerCount, headLength: headLength, framing: body,
                keepAlive: framing.persistent(version: line.version),
                expectContinue: http11 && framing.expectContinue,
                upgrade: http11 && framing.connectionUpgrade && framing.hasUpgrade,
                hostIndex: framing.hostIndex, connectionHasCustomTokens: framing.connectionCustom))
    }

    /// The request-level rules of RFC 9112 §3.2 and §6, in a fixed order so each input has one answer.
    private static func semanticError(_ framing: FramingState, version: HTTPVersion) -> HTTPParseError? {
        if framing.hostCount > 1 { return .multipleHost }
        if let error = framing.bodyError(version: version) { return error }
        if version == .http11 && framing.hostCount == 0 { return .missingHost }
        if framing.hostInvalid { return .invalidHeaderValue }
        // RFC 9110 §10.1.1: a 1.0 server ignores Expect; for 1.1 we may answer 417, SPEC maps it to 400.
        if version == .http11 && framing.expectOther { return .unsupportedExpectation }
        return nil
    }
}
