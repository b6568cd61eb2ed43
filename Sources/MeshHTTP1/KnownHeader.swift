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

    /// Classifies a field name; the switch on length keeps it to at most three compares.
    public static func classify(_ name: UnsafeRawBufferPointer) -> KnownHeader {
        let eq = asciiCaseInsensitiveEquals
        switch name.count {
        case 2: return eq(name, "te") ? .te : .other
        case 3: return eq(name, "via") ? .via : .other
        case 4: return eq(name, "host") ? .host : eq(name, "date") ? .date : .other
        case 6:
            return eq(name, "cookie") ? .cookie : eq(name, "expect") ? .expect : eq(name, "server") ? .server : .other
        case 7: return eq(name, "upgrade") ? .upgrade : eq(name, "trailer") ? .trailer : .other
        case 9: return eq(name, "forwarded") ? .forwarded : .other
        case 10:
            if eq(name, "connection") { return .connection }
            if eq(name, "keep-alive") { return .keepAlive }
            return eq(name, "tracestate") ? .tracestate : .other
        case 11: return eq(name, "traceparent") ? .traceparent : .other
        case 12: return eq(name, "x-request-id") ? .xRequestID : .other
        case 13: return eq(name, "authorization") ? .authorization : .other
        case 14: return eq(name, "content-length") ? .contentLength : .other
        case 15: return eq(name, "x-forwarded-for") ? .xForwardedFor : .other
        case 16:
            if eq(name, "x-forwarded-host") { return .xForwardedHost }
            return eq(name, "proxy-connection") ? .proxyConnection : .other
        case 17:
            if eq(name, "transfer-encoding") { return .transferEncoding }
            return eq(name, "x-forwarded-proto") ? .xForwardedProto : .other
        default: return .other
        }
    }
}
