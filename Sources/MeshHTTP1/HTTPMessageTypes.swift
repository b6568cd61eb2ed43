// Small value enums shared by the request and response heads. They are grouped in one file because each is a
// handful of lines; the parsers that produce them live in their own files.

/// The protocol version of a message; the parsers accept exactly `HTTP/1.1` and `HTTP/1.0` (RFC 9112 §2.3).
public enum HTTPVersion: UInt8, Sendable {
    /// `HTTP/1.0`: no persistent connection unless `Connection: keep-alive`, no chunked framing.
    case http10
    /// `HTTP/1.1`: persistent by default, `Host` required in requests.
    case http11
}

/// A request method. Methods are case-sensitive (RFC 9110 §9.1), so `get` is `.other`.
public enum HTTPMethod: UInt8, Sendable, CaseIterable {
    /// `GET`
    case get
    /// `HEAD`: the response never has a body (RFC 9112 §6.3 rule 1).
    case head
    /// `POST`
    case post
    /// `PUT`
    case put
    /// `DELETE`
    case delete
    /// `OPTIONS`: the only method allowed with the `*` target.
    case options
    /// `PATCH`
    case patch
    /// `CONNECT`: the only method allowed (and required) with the authority-form target.
    case connect
    /// `TRACE`
    case trace
    /// Any other token; read its bytes from the buffer (offset 0, `RequestHead.methodLength`).
    case other

    /// Whether the gateway may send the request again (retries, stale keep-alive replays): exactly SPEC §3's
    /// set GET, HEAD, OPTIONS, PUT, DELETE. The one rule for "idempotent" in the gateway. RFC 9110 §9.2.2 also
    /// calls TRACE idempotent, but SPEC leaves it out (a TRACE echoes the request, so a replay shows twice in
    /// the upstream's view); unknown methods are never assumed idempotent.
    public var isIdempotent: Bool {
        switch self {
        case .get, .head, .options, .put, .delete: return true
        case .post, .patch, .connect, .trace, .other: return false
        }
    }

    /// The method a request line's token names (`.other` for any other token).
    public init(token: some Collection<UInt8>) {
        // In place when the token is contiguous (an h2 head's slice); a copy only for other collections.
        let classify = { (buffer: UnsafeBufferPointer<UInt8>) -> HTTPMethod in
            guard let base = buffer.baseAddress else { return .other }
            return RequestLine.classifyMethod(base, length: buffer.count)
        }
        self = token.withContiguousStorageIfAvailable(classify) ?? Array(token).withUnsafeBufferPointer(classify)
    }

    /// The spelling in log fields, metric labels and span names (`OTHER` for any unknown token).
    public var label: StaticString {
        switch self {
        case .get: "GET"
        case .head: "HEAD"
        case .post: "POST"
        case .put: "PUT"
        case .delete: "DELETE"
        case .options: "OPTIONS"
        case .patch: "PATCH"
        case .connect: "CONNECT"
        case .trace: "TRACE"
        case .other: "OTHER"
        }
    }
}

/// The four request-target forms of RFC 9112 §3.2.
public enum RequestTargetForm: UInt8, Sendable {
    /// `/path?query` (§3.2.1).
    case origin
    /// `http://host[:port]/path?query` (§3.2.2), as sent to a proxy.
    case absolute
    /// `host:port`, CONNECT only (§3.2.3).
    case authority
    /// `*`, OPTIONS only (§3.2.4).
    case asterisk
}

/// How the body of a message is delimited (RFC 9112 §6.3).
public enum BodyFraming: Equatable, Sendable {
    /// No body.
    case none
    /// Exactly N bytes follow the head (N may be 0: treat like `.none`).
    case contentLength(Int)
    /// A chunked body follows; feed it to a `ChunkedDecoder`.
    case chunked
    /// Responses only: the body runs until the upstream closes the connection.
    case untilClose
}

/// The outcome of a head parse, picohttpparser-style.
public enum HeadParseResult<Head: Sendable>: Sendable {
    /// The head is not complete yet; call again with the same start and more bytes.
    case incomplete
    /// The head is complete; its `headLength` says where the body (or next message) starts.
    case complete(Head)
    /// The head is malformed or ambiguous; answer `error.status` and close the connection.
    case invalid(HTTPParseError)
}

extension HeadParseResult: Equatable where Head: Equatable {}
