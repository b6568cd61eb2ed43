/// A parsed request head: offsets into the caller's buffer plus the framing decisions of RFC 9112 §6.
///
/// All offsets are relative to the start of the buffer given to `RequestParser.parse`. The field lines are in the
/// caller's header array, `headerCount` of them.
public struct RequestHead: Sendable, Equatable {
    /// The method, classified; read the token itself at offset 0 for `.other`.
    public var method: HTTPMethod
    /// Length of the method token, which starts at offset 0.
    public var methodLength: Int32
    /// Offset of the raw request-target.
    public var targetStart: Int32
    /// Length of the raw request-target.
    public var targetLength: Int32
    /// Which of the four forms the target has.
    public var form: RequestTargetForm
    /// absolute-form or authority-form: offset of `host[:port]`; else 0.
    public var authorityStart: Int32
    /// absolute-form or authority-form: length of `host[:port]`; else 0.
    public var authorityLength: Int32
    /// Offset of the path (no query).
    public var pathStart: Int32
    /// Length of the path; 0 for absolute-form without a path (meaning "/"), for `*` and for CONNECT.
    public var pathLength: Int32
    /// Offset of the query including its leading "?"; 0 when absent.
    public var queryStart: Int32
    /// Length of the query including its leading "?"; 0 when absent.
    public var queryLength: Int32
    /// `HTTP/1.1` or `HTTP/1.0`.
    public var version: HTTPVersion
    /// Number of field lines written into the caller's header array.
    public var headerCount: Int
    /// Bytes of the head, the final CRLFCRLF included: the body or the next request starts here.
    public var headLength: Int
    /// How the body is delimited: `.none`, `.contentLength` or `.chunked` (never `.untilClose` for a request).
    public var framing: BodyFraming
    /// Whether the client wants the connection kept open: 1.1 unless `close`, 1.0 only with `keep-alive`.
    public var keepAlive: Bool
    /// HTTP/1.1 `Expect: 100-continue` (RFC 9110 §10.1.1); ignored for HTTP/1.0 as that section requires.
    public var expectContinue: Bool
    /// HTTP/1.1 with `Connection: upgrade` and an Upgrade field (RFC 9110 §7.8).
    public var upgrade: Bool
    /// Index of the Host field in the header array, -1 if none.
    public var hostIndex: Int32
    /// Connection names tokens other than close/keep-alive/upgrade: those fields are hop-by-hop too.
    public var connectionHasCustomTokens: Bool
}
