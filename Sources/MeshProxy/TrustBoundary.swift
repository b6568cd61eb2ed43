import MeshHTTP1

/// The trust boundary's rules for a parsed client request (SPEC §4 "The head sent upstream"), applied before
/// routing so that a request the gateway would have to guess about is refused, never forwarded.
///
/// The gateway owns some fields outright: it writes framing, `host` and its own context fields itself, and
/// upstreams trust the claim headers it sets. A client may not remove those through `Connection`, may not send
/// spellings of them that frameworks fold together (`x_user_id` is `x-user-id` to many of them), and may not
/// present more credentials than the one that is verified.
public enum TrustBoundary {
    /// Longest `Host` (or absolute-form authority) accepted: a DNS name is at most 253 bytes, so anything near
    /// this is an attack on head sizes, not a host.
    public static let maxAuthorityBytes = 1024

    /// Fields the gateway writes itself or decides on (lowercase). A client's `Connection` may not name them
    /// (400), and `_` spellings of them are dropped.
    public static let gatewayOwned: [[UInt8]] = [
        "content-length", "transfer-encoding", "host", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host",
        "forwarded", "x-request-id", "traceparent", "tracestate", "x-meshgate-deadline-ms", "authorization",
        "x-forwarded-client-cert",
    ].map { Array($0.utf8) }

    /// Hop-by-hop fields (RFC 9110 §7.6.1) and `Expect`: never forwarded, so `Connection` may name them, but
    /// their `_` spellings are dropped too (`proxy_connection` is `Proxy-Connection` to a CGI-style upstream).
    static let hopByHop: [[UInt8]] = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "expect",
    ].map { Array($0.utf8) }

    /// The protocols a client may switch to through the gateway: WebSocket only. `h2c` would hand an upstream a
    /// connection the gateway can no longer read (requests on it would skip routing and JWT).
    static let tunnelledProtocol = Array("websocket".utf8)

    /// Why `request` must be refused (always a 400), or nil when it may be routed.
    ///
    /// - Parameter trusted: the listener's own trusted names (`claims_to_headers` targets), lowercase.
    public static func violation(_ request: RequestView, trusted: [[UInt8]]) -> GatewayError? {
        if request.authority.count > maxAuthorityBytes { return .badRequest }
        var authorizations = 0
        for i in 0..<request.head.headerCount {
            switch request.headers[i].known {
            case .authorization:
                // Only one credential is verified; a second one could be what the upstream reads.
                authorizations += 1
                if authorizations > 1 { return .badRequest }
            case .connection where request.head.connectionHasCustomTokens:
                if refusesConnection(request.value(i), trusted: trusted) { return .badRequest }
            default:
                break
            }
        }
        return nil
    }

    /// Whether the request asks for a tunnel the gateway allows: HTTP/1.1 `Connection: upgrade` with exactly one
    /// `Upgrade` field saying `websocket`. Any other upgrade is forwarded as a plain request without its upgrade
    /// fields (RFC 9110 §7.8 lets a server ignore Upgrade).
    public static func allowsTunnel(_ request: RequestView) -> Bool {
        guard request.head.upgrade else { return false }
        var protocolValue: UnsafeRawBufferPointer?
        for i in 0..<request.head.headerCount where request.headers[i].known == .upgrade {
            guard protocolValue == nil else { return false }
            protocolValue = request.value(i)
        }
        guard let value = protocolValue else { return false }
        return Bytes.equalsIgnoringCase(value, tunnelledProtocol)
    }

    /// Whether a client field `name` (not one of the known fields) is an `_` spelling of an owned or trusted
    /// name and must be dropped. Costs one scan of the name; names without `_` return at once.
    @inline(__always)
    public static func isDisguised(_ name: UnsafeRawBufferPointer, trusted: [[UInt8]]) -> Bool {
        guard name.contains(UInt8(ascii: "_")) else { return false }
        for candidate in gatewayOwned where equalsFolded(name, candidate) { return true }
        for candidate in hopByHop where equalsFolded(name, candidate) { return true }
        for candidate in trusted where equalsFolded(name, candidate) { return true }
        return false
    }

    /// Whether a Connection value must be refused: an element that is not a token (`x -foo`: which field does it
    /// name?), or one naming an owned or trusted field (ASCII case-insensitive, `_` as `-`). Elements are read by
    /// `HopByHop.anyElement`, as the hop-by-hop stripping reads them.
    static func refusesConnection(_ list: UnsafeRawBufferPointer, trusted: [[UInt8]]) -> Bool {
        HopByHop.anyElement(of: list) { token in
            guard HopByHop.isToken(token) else { return true }
            // close / keep-alive / upgrade are Connection's own vocabulary, not field names to remove.
            if Bytes.equalsIgnoringCase(token, close) || Bytes.equalsIgnoringCase(token, keepAlive)
                || Bytes.equalsIgnoringCase(token, upgrade)
            {
                return false
            }
            return gatewayOwned.contains { equalsFolded(token, $0) } || trusted.contains { equalsFolded(token, $0) }
        }
    }

    private static let close = Array("close".utf8)
    private static let keepAlive = Array("keep-alive".utf8)
    private static let upgrade = Array("upgrade".utf8)

    /// ASCII case-insensitive equality that also takes `_` for `-` (how CGI, WSGI, Rack and many frameworks
    /// fold field names). `lowercase` is already lowercase with `-`.
    @inline(__always)
    static func equalsFolded(_ name: UnsafeRawBufferPointer, _ lowercase: [UInt8]) -> Bool {
        guard name.count == lowercase.count else { return false }
        for k in 0..<name.count {
            var b = Bytes.lower(name[k])
            if b == UInt8(ascii: "_") { b = UInt8(ascii: "-") }
            if b != lowercase[k] { return false }
        }
        return true
    }
}
