/// Header names the gateway acts on, classified once during the parse so later stages switch on a byte instead
/// of comparing strings. Matching is ASCII case-insensitive (RFC 9110 §5.1).
public enum KnownHeader: UInt8, Sendable {
    /// Any name not listed below.
    case other
    /// `Host`
    case host
    /// `Content-Length`
    case contentLength
    /// `Transfer-Encoding`
    case transferEncoding
    /// `Connection`
    case connection
    /// `Keep-Alive`
    case keepAlive
    /// `Proxy-Connection`
    case proxyConnection
    /// `TE`
    case te
    /// `Trailer`
    case trailer
    /// `Upgrade`
    case upgrade
    /// `Expect`
    case expect
    /// `X-Forwarded-For`
    case xForwardedFor
    /// `X-Forwarded-Proto`
    case xForwardedProto
    /// `X-Forwarded-Host`
    case xForwardedHost
    /// `X-Request-ID`
    case xRequestID
    /// `traceparent`
    case traceparent
    /// `tracestate`
    case tracestate
    /// `Authorization`
    case authorization
    /// `Cookie`
    case cookie
    /// `Forwarded`
    case forwarded
    /// `Via`
    case via
    /// `Server`
    case server
    /// `Date`
    case date

    /// Whether this header is hop-by-hop by definition (RFC 9110 §7.6.1), independent of what Connection names.
    public var isHopByHop: Bool {
        switch self {
        case .connection, .keepAlive, .proxyConnection, .te, .trailer, .transferEncoding, .upgrade: return true
        default: return false
        }
    }

    /// Classifies a field name; the switch on length and first letter leaves at most one full compare (names
    /// that are none of these, most of a request's, cost two integer compares).
    public static func classify(_ name: UnsafeRawBufferPointer) -> KnownHeader {
        guard let first = name.first else { return .other }
        let eq = asciiCaseInsensitiveEquals
        switch (name.count, ASCII.lower(first)) {
        case (2, UInt8(ascii: "t")): return eq(name, "te") ? .te : .other
        case (3, UInt8(ascii: "v")): return eq(name, "via") ? .via : .other
        case (4, UInt8(ascii: "h")): return eq(name, "host") ? .host : .other
        case (4, UInt8(ascii: "d")): return eq(name, "date") ? .date : .other
        case (6, UInt8(ascii: "c")): return eq(name, "cookie") ? .cookie : .other
        case (6, UInt8(ascii: "e")): return eq(name, "expect") ? .expect : .other
        case (6, UInt8(ascii: "s")): return eq(name, "server") ? .server : .other
        case (7, UInt8(ascii: "u")): return eq(name, "upgrade") ? .upgrade : .other
        case (7, UInt8(ascii: "t")): return eq(name, "trailer") ? .trailer : .other
        case (9, UInt8(ascii: "f")): return eq(name, "forwarded") ? .forwarded : .other
        case (10, UInt8(ascii: "c")): return eq(name, "connection") ? .connection : .other
        case (10, UInt8(ascii: "k")): return eq(name, "keep-alive") ? .keepAlive : .other
        case (10, UInt8(ascii: "t")): return eq(name, "tracestate") ? .tracestate : .other
        case (11, UInt8(ascii: "t")): return eq(name, "traceparent") ? .traceparent : .other
        case (12, UInt8(ascii: "x")): return eq(name, "x-request-id") ? .xRequestID : .other
        case (13, UInt8(ascii: "a")): return eq(name, "authorization") ? .authorization : .other
        case (14, UInt8(ascii: "c")): return eq(name, "content-length") ? .contentLength : .other
        case (15, UInt8(ascii: "x")): return eq(name, "x-forwarded-for") ? .xForwardedFor : .other
        case (16, UInt8(ascii: "x")): return eq(name, "x-forwarded-host") ? .xForwardedHost : .other
        case (16, UInt8(ascii: "p")): return eq(name, "proxy-connection") ? .proxyConnection : .other
        case (17, UInt8(ascii: "t")): return eq(name, "transfer-encoding") ? .transferEncoding : .other
        case (17, UInt8(ascii: "x")): return eq(name, "x-forwarded-proto") ? .xForwardedProto : .other
        default: return .other
        }
    }
}
