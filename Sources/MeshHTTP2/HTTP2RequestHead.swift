/// Why a request, response or trailer section is malformed (RFC 9113 §8.1.1): each makes the stream fail with
/// RST_STREAM PROTOCOL_ERROR; the connection goes on (SPEC §10). The server reports requests', the client
/// (`HTTP2ClientConnection`) responses'.
public enum HTTP2Malformation: Error, Sendable, Equatable {
    /// A field name with an uppercase letter (§8.2.1).
    case uppercaseName
    /// A field name that is empty or has a byte outside `tchar` (§8.2.1).
    case invalidName
    /// A value with NUL, CR or LF, or starting or ending with SP/HTAB (§8.2.1).
    case invalidValue
    /// `connection`, `proxy-connection`, `keep-alive`, `transfer-encoding` or `upgrade` (§8.2.2).
    case connectionSpecificField
    /// `te` with a value other than `trailers` (§8.2.2).
    case invalidTE
    /// A pseudo-header field after a regular field (§8.3).
    case pseudoAfterRegular
    /// A pseudo-header that is not a request pseudo-header, e.g. `:status` or `:protocol` (§8.3).
    case unknownPseudo
    /// The same pseudo-header twice (§8.3.1).
    case duplicatePseudo
    /// No `:method`, or one that is not a token.
    case invalidMethod
    /// A non-CONNECT request without `:scheme` (§8.3.1).
    case missingScheme
    /// A non-CONNECT request without `:path`, with an empty one, or (http/https) one not starting with `/`
    /// other than `*` for OPTIONS (§8.3.1).
    case invalidPath
    /// CONNECT with `:scheme` or `:path`, or without `:authority` (§8.5).
    case invalidConnect
    /// A pseudo-header field in trailers (§8.1).
    case pseudoInTrailers
    /// Trailers without END_STREAM (§8.1).
    case trailersWithoutEndStream
    /// A `content-length` that is not digits, or several that differ.
    case invalidContentLength
    /// A trailer section decoding to more than `maxHeaderBytes` (too late for a 431).
    case trailersTooLarge
    /// DATA totalling more or less than `content-length` (§8.1.1); for a response to HEAD, or a 204 or 304, any
    /// DATA at all (RFC 9110 §6.4.1: those have no content whatever `content-length` says).
    case contentLengthMismatch
    /// A response without `:status`, with one that is not three digits in 100–599, or with 101 (§8.3.2, §8.6).
    case invalidStatus
    /// An informational (1xx) response with END_STREAM (§8.1).
    case informationalEndStream
    /// DATA before the final response head (§8.1).
    case dataBeforeResponse
    /// A complete response header section decoding to more than the client's `maxHeaderBytes` (the client's
    /// stream error; the server answers 431 instead).
    case headersTooLarge
}

/// A validated request head: the decoded fields (pseudo-headers first) and where the pseudo-headers are.
public struct HTTP2RequestHead: Sendable, Equatable {
    /// Every field as received, pseudo-headers included.
    public var fields: HTTP2HeaderList
    /// Index in `fields` of the first regular field.
    public var regularFieldsStart: Int
    /// The `content-length` value, nil when absent.
    public var contentLength: Int?
    @usableFromInline var methodIndex = -1
    @usableFromInline var schemeIndex = -1
    @usableFromInline var authorityIndex = -1
    @usableFromInline var pathIndex = -1

    /// `:method` (always present).
    public var method: ArraySlice<UInt8> { fields.value(methodIndex) }
    /// `:scheme`; nil only for CONNECT.
    public var scheme: ArraySlice<UInt8>? { schemeIndex < 0 ? nil : fields.value(schemeIndex) }
    /// `:authority`, nil when absent (the caller then falls back to `host`, RFC 9113 §8.3.1).
    public var authority: ArraySlice<UInt8>? { authorityIndex < 0 ? nil : fields.value(authorityIndex) }
    /// `:path`; nil only for CONNECT.
    public var path: ArraySlice<UInt8>? { pathIndex < 0 ? nil : fields.value(pathIndex) }
    /// Calls `body` with the head laid open in place: the fields' storage and the pseudo-header values as raw
    /// bytes, nothing reference-counted. Inlined, so the head is borrowed, not copied (a call or a closure
    /// capturing it copied it: its two arrays retained and released each time).
    @inlinable @inline(__always)
    public func withParts<R>(_ body: (Parts) -> R) -> R {
        fields.withBytes { all in
            fields.fields.withUnsafeBufferPointer { entries in
                func value(_ i: Int) -> UnsafeRawBufferPointer? {
                    i < 0 ? nil : UnsafeRawBufferPointer(rebasing: all[fields.valueRange(i)])
                }
                return body(
                    Parts(
                        all: all, fields: entries, regularFieldsStart: regularFieldsStart, contentLength: contentLength,
                        method: value(methodIndex)!, authority: value(authorityIndex), path: value(pathIndex)))
            }
        }
    }

    /// `withParts`: a request head as raw bytes, valid only inside the call.
    @frozen
    public struct Parts {
        /// The fields' names and values; `fields` are offsets into it.
        public var all: UnsafeRawBufferPointer
        public var fields: UnsafeBufferPointer<HTTP2HeaderField>
        public var regularFieldsStart: Int
        public var contentLength: Int?
        public var method: UnsafeRawBufferPointer
        public var authority: UnsafeRawBufferPointer?
        public var path: UnsafeRawBufferPointer?

        @usableFromInline
        init(
            all: UnsafeRawBufferPointer, fields: UnsafeBufferPointer<HTTP2HeaderField>, regularFieldsStart: Int,
            contentLength: Int?, method: UnsafeRawBufferPointer, authority: UnsafeRawBufferPointer?,
            path: UnsafeRawBufferPointer?
        ) {
            self.all = all
            self.fields = fields
            self.regularFieldsStart = regularFieldsStart
            self.contentLength = contentLength
            self.method = method
            self.authority = authority
            self.path = path
        }

        /// Field `i`'s name.
        public func name(_ i: Int) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(rebasing: all[fields[i].nameRange])
        }

        /// Field `i`'s value.
        public func value(_ i: Int) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(rebasing: all[fields[i].valueRange])
        }
    }
}

/// The RFC 9113 §8.3.1 request pseudo-header checks, on top of `HTTP2FieldValidator`'s field rules.
enum RequestValidator {
    /// Validates a request header section.
    static func request(_ fields: HTTP2HeaderList) -> Result<HTTP2RequestHead, HTTP2Malformation> {
        var head = HTTP2RequestHead(fields: fields, regularFieldsStart: fields.count)
        // The storage read once, in place: a slice per name and value retained the list's storage each time.
        let error = fields.withBytes { all -> HTTP2Malformation? in
            var regularSeen = false
            for (i, field) in fields.fields.enumerated() {
                let name = UnsafeRawBufferPointer(rebasing: all[field.nameRange])
                let value = UnsafeRawBufferPointer(rebasing: all[field.valueRange])
                if let error = HTTP2FieldValidator.checkValue(value) { return error }
                if name.first == UInt8(ascii: ":") {
                    if regularSeen { return .pseudoAfterRegular }
                    if let error = recordPseudo(name, at: i, in: &head) { return error }
                } else {
                    if !regularSeen { head.regularFieldsStart = i }
                    regularSeen = true
                    if let error = HTTP2FieldValidator.checkRegular(name, value, contentLength: &head.contentLength) {
                        return error
                    }
                }
            }
            return nil
        }
        if let error = error ?? checkPseudoSet(head) { return .failure(error) }
        return .success(consume head)
    }

    private static func recordPseudo(_ name: UnsafeRawBufferPointer, at i: Int, in head: inout HTTP2RequestHead)
        -> HTTP2Malformation?
    {
        func claim(_ slot: inout Int) -> HTTP2Malformation? {
            guard slot < 0 else { return .duplicatePseudo }
            slot = i
            return nil
        }
        if name.equals(":method") { return claim(&head.methodIndex) }
        if name.equals(":scheme") { return claim(&head.schemeIndex) }
        if name.equals(":authority") { return claim(&head.authorityIndex) }
        if name.equals(":path") { return claim(&head.pathIndex) }
        return .unknownPseudo
    }

    /// Reads the pseudo-header values in place (`withParts`): the `ArraySlice` accessors retained and released the
    /// fields' storage for each of them (~130 instructions a request).
    private static func checkPseudoSet(_ head: HTTP2RequestHead) -> HTTP2Malformation? {
        guard head.methodIndex >= 0 else { return .invalidMethod }
        return head.withParts { parts in
            guard !parts.method.isEmpty, parts.method.allSatisfy(HTTP2FieldValidator.isTokenByte) else {
                return .invalidMethod
            }
            if parts.method.equals("CONNECT") {
                // §8.5: CONNECT carries only :method and :authority (no extended CONNECT: we never send
                // SETTINGS_ENABLE_CONNECT_PROTOCOL, so :protocol is already an unknown pseudo-header).
                let authorityMissing = parts.authority?.isEmpty ?? true
                return head.schemeIndex >= 0 || head.pathIndex >= 0 || authorityMissing ? .invalidConnect : nil
            }
            guard head.schemeIndex >= 0 else { return .missingScheme }
            let scheme = UnsafeRawBufferPointer(rebasing: parts.all[parts.fields[head.schemeIndex].valueRange])
            guard !scheme.isEmpty else { return .missingScheme }
            guard let path = parts.path, !path.isEmpty else { return .invalidPath }
            let web = scheme.equals("http") || scheme.equals("https")
            if web && path.first != UInt8(ascii: "/") {
                let asterisk = path.equals("*") && parts.method.equals("OPTIONS")
                if !asterisk { return .invalidPath }
            }
            return nil
        }
    }
}
