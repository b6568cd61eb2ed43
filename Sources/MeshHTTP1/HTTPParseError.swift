/// Why a head or chunked body was rejected. Every case is a framing or syntax violation of RFC 9112; SPEC §4 says
/// each ends with the status below and the connection closed ("nothing ambiguous is ever forwarded").
public enum HTTPParseError: Error, Sendable, Equatable {
    /// The method is empty or not a token (RFC 9110 §9.1), or the head starts with an empty line.
    case invalidMethod
    /// The request-target has a CTL, space or `#`, is not one of the four forms, or its form does not fit the method.
    case invalidTarget
    /// The version is not exactly `HTTP/1.1` or `HTTP/1.0`.
    case invalidVersion
    /// A field name is empty or not a token, or a field line has no colon.
    case invalidHeaderName
    /// Whitespace between a field name and its colon (RFC 9112 §5.1: MUST reject).
    case whitespaceBeforeColon
    /// A line starting with SP/HTAB: obsolete line folding (RFC 9112 §5.2).
    case obsFold
    /// A CR not followed by LF (RFC 9112 §2.2).
    case bareCR
    /// An LF not preceded by CR (we do not use the §2.2 leniency: it is a smuggling vector).
    case bareLF
    /// A NUL byte anywhere in the head (RFC 9110 §5.5).
    case nulInHead
    /// A field value byte that is not VCHAR, obs-text, SP or HTAB, or a malformed Host value.
    case invalidHeaderValue
    /// An HTTP/1.1 request without Host (RFC 9112 §3.2: MUST respond 400).
    case missingHost
    /// More than one Host field line (RFC 9112 §3.2: MUST respond 400).
    case multipleHost
    /// Both Content-Length and Transfer-Encoding (RFC 9112 §6.3 rule 3: the request smuggling vector).
    case contentLengthAndTransferEncoding
    /// Several Content-Length values that differ (RFC 9112 §6.3 rule 5).
    case conflictingContentLength
    /// A Content-Length that is not 1*DIGIT or does not fit in an Int.
    case invalidContentLength
    /// A Transfer-Encoding other than exactly one `chunked`, or any Transfer-Encoding in HTTP/1.0.
    case unsupportedTransferEncoding
    /// More field lines than `HTTPLimits.maxHeaderCount` (or the caller's header array).
    case tooManyHeaders
    /// The head is longer than `HTTPLimits.maxHeaderBytes`.
    case headersTooLarge
    /// The request-target is longer than `HTTPLimits.maxURIBytes`.
    case uriTooLong
    /// An Expect value other than `100-continue` (RFC 9110 §10.1.1).
    case unsupportedExpectation
    /// A status line whose code is not three digits in 100...599, or whose reason has a CTL.
    case invalidStatus
    /// A chunk-size that is not 1*HEXDIG, or is followed by junk.
    case invalidChunkSize
    /// A malformed chunk extension or a size line over 4 KiB.
    case invalidChunkExtension
    /// Something other than CRLF after a chunk-size line or after chunk data.
    case invalidChunkTerminator
    /// A malformed trailer field, or trailers over the decoder's `maxTrailerBytes`.
    case invalidTrailer
    /// A chunk-size of more than 15 hex digits.
    case chunkTooLarge

    /// The status to answer a client with: 414 for `.uriTooLong`, 431 for the header limits, else 400.
    public var status: Int {
        switch self {
        case .uriTooLong: return 414
        case .headersTooLarge, .tooManyHeaders: return 431
        default: return 400
        }
    }

    /// A short human description for logs.
    public var reason: String {
        switch self {
        case .invalidMethod: return "invalid method"
        case .invalidTarget: return "invalid request-target"
        case .invalidVersion: return "unsupported HTTP version"
        case .invalidHeaderName: return "invalid header field name"
        case .whitespaceBeforeColon: return "whitespace between header name and colon"
        case .obsFold: return "obsolete line folding"
        case .bareCR: return "CR not followed by LF"
        case .bareLF: return "LF not preceded by CR"
        case .nulInHead: return "NUL byte in head"
        case .invalidHeaderValue: return "invalid header field value"
        case .missingHost: return "HTTP/1.1 request without Host"
        case .multipleHost: return "more than one Host header"
        case .contentLengthAndTransferEncoding: return "Content-Length and Transfer-Encoding both present"
        case .conflictingContentLength: return "conflicting Content-Length values"
        case .invalidContentLength: return "invalid Content-Length"
        case .unsupportedTransferEncoding: return "unsupported Transfer-Encoding"
        case .tooManyHeaders: return "too many header fields"
        case .headersTooLarge: return "request head too large"
        case .uriTooLong: return "request-target too long"
        case .unsupportedExpectation: return "unsupported Expect value"
        case .invalidStatus: return "invalid status line"
        case .invalidChunkSize: return "invalid chunk size"
        case .invalidChunkExtension: return "invalid chunk extension"
        case .invalidChunkTerminator: return "chunk not terminated by CRLF"
        case .invalidTrailer: return "invalid trailer section"
        case .chunkTooLarge: return "chunk size too large"
        }
    }
}
