/// Header names a config may not set or remove, because the gateway owns them (SPEC §3, §4, §5).
///
/// Request side (`request_headers`, `claims_to_headers`): the framing and connection fields the gateway writes
/// from the parsed request (a configured `content-length` or `transfer-encoding` would frame the body twice, a
/// second request could hide in it), the hop-by-hop fields, and the fields the gateway sets or trusts for
/// upstreams (forwarding, request id, trace context, deadline). Response side (`response_headers`, a
/// fallback's `headers`): the framing and hop-by-hop fields of the response the gateway writes.
///
/// Names compare case-insensitively and with `_` read as `-`: some upstream stacks (CGI, several frameworks)
/// fold `content_length` into `content-length`, which would make such a name a second framing field.
enum ReservedHeaders {
    /// Fields the gateway writes itself on every upstream request, or trusts from nobody but itself.
    static let request: Set<String> = [
        "content-length", "transfer-encoding", "host", "connection", "keep-alive", "proxy-connection", "te",
        "trailer", "upgrade", "expect", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "forwarded",
        "x-request-id", "traceparent", "tracestate", "x-meshgate-deadline-ms",
    ]

    /// Framing and hop-by-hop fields of responses.
    static let response: Set<String> = [
        "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection", "te", "trailer",
        "upgrade",
    ]

    /// The reserved name `name` stands for on `side`, nil when it is free to configure.
    static func reserved(_ name: String, in side: Set<String>) -> String? {
        let canonical = folded(name)
        return side.contains(canonical) ? canonical : nil
    }

    /// `name` as upstream stacks compare it: lowercase, `_` read as `-`.
    static func folded(_ name: String) -> String { String(name.lowercased().map { $0 == "_" ? "-" : $0 }) }

    /// The error message for a reserved name.
    static func message(_ name: String, canonical: String, what: String) -> String {
        let spelled = name.lowercased() == canonical ? "" : " (read as \(quoted(canonical)))"
        return "\(quoted(name))\(spelled) is written by the gateway and cannot be \(what) by the config"
    }
}
