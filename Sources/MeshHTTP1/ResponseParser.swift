/// Sans-IO parser for HTTP/1.1 response heads from upstreams (RFC 9112 §4, §5, §6), with the same borrowing,
/// resumable design as `RequestParser`. Its errors become 502s: an upstream that frames ambiguously is not trusted.
///
/// One parser per upstream connection, used by one thread. After a 1xx (`isInformational`) parse the next head
/// from `headLength` on; a `.complete` or `.invalid` result resets the parser.
public struct ResponseParser: Sendable {
    /// The limits this parser enforces (`maxURIBytes` is unused).
    public let limits: HTTPLimits
    private var scanner = HeadScanner()
    /// Whether the complete status line of the partial head was already validated.
    private var statusLineChecked = false

    /// Creates a parser with the given limits.
    public init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
    }

    /// Forgets any partial scan, before the next response on the connection.
    public mutating func reset() {
        scanner.reset()
        statusLineChecked = false
    }

    /// Parses a response head at the start of `buffer`; `requestMethod` is the method of the request it answers
    /// (a HEAD response, or a 2xx to CONNECT, has no body whatever its fields say: RFC 9112 §6.3 rules 1-2).
    public mutating func parse(
        _ buffer: UnsafeRawBufferPointer,
        headers: UnsafeMutableBufferPointer<HTTPHeaderField>,
        requestMethod: HTTPMethod
    ) -> HeadParseResult<ResponseHead> {
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
            reset()
            return .invalid(error == .invalidMethod ? .invalidStatus : error)
        case .end(let headLength):
            reset()
            switch parseHead(base, headLength: headLength, headers: headers, requestMethod: requestMethod) {
            case .success(let head): return .complete(head)
            case .failure(let error): return .invalid(error)
            }
        }
    }

    /// Fails fast on an upstream that does not speak HTTP/1.x at all, or whose status line (once complete, checked
    /// once) is malformed.
    private mutating func partialLineError(_ base: UnsafePointer<UInt8>, count: Int) -> HTTPParseError? {
        if scanner.startLineEnded {
            guard !statusLineChecked else { return nil }
            statusLineChecked = true
            if case .failure(let error) = StatusLine.parse(base) { return error }
            return nil
        }
        let prefix: StaticString = "HTTP/1."
        let p = prefix.utf8Start
        for k in 0..<min(count, 7) where base[k] != p[k] { return .invalidVersion }
        return nil
    }

    /// The one pass over a complete head.
    private func parseHead(
        _ base: UnsafePointer<UInt8>,
        headLength: Int,
        headers: UnsafeMutableBufferPointer<HTTPHeaderField>,
        requestMethod: HTTPMethod
    ) -> Result<ResponseHead, HTTPParseError> {
        let line: StatusLine
        switch StatusLine.parse(base) {
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
        if let error = framing.bodyError(version: line.version) { return .failure(error) }
        let body = Self.bodyFraming(status: line.status, requestMethod: requestMethod, framing: framing)
        return .success(
            ResponseHead(
                status: line.status, version: line.version,
                reasonStart: Int32(line.reasonStart), reasonLength: Int32(line.reasonLength),
                headerCount: headerCount, headLength: headLength, framing: body,
                contentLength: framing.contentLength,
                keepAlive: body != .untilClose && framing.persistent(version: line.version),
                connectionHasCustomTokens: framing.connectionCustom,
                isInformational: line.status < 200 && line.status != 101))
    }

    /// RFC 9112 §6.3, rules 1-7, for a head whose CL/TE fields already passed `FramingState.bodyError`.
    private static func bodyFraming(status: Int, requestMethod: HTTPMethod, framing: FramingState) -> BodyFraming {
        if requestMethod == .head || status < 200 || status == 204 || status == 304 { return .none }
        // Rule 2: a 2xx to CONNECT switches to a tunnel; the bytes after the head are not a body.
        if requestMethod == .connect && status < 300 { return .none }
        if framing.transferEncodingCount > 0 { return .chunked }
        if framing.contentLength >= 0 { return .contentLength(framing.contentLength) }
        return .untilClose
    }
}
