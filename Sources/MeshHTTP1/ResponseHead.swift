/// A parsed response head: offsets into the caller's buffer plus the framing decision of RFC 9112 §6.3.
public struct ResponseHead: Sendable, Equatable {
    /// The status code, 100...599.
    public var status: Int
    /// `HTTP/1.1` or `HTTP/1.0`.
    public var version: HTTPVersion
    /// Offset of the reason phrase (may be empty).
    public var reasonStart: Int32
    /// Length of the reason phrase.
    public var reasonLength: Int32
    /// Number of field lines written into the caller's header array.
    public var headerCount: Int
    /// Bytes of the head, the final CRLFCRLF included.
    public var headLength: Int
    /// RFC 9112 §6.3: HEAD request, 1xx, 204, 304 and 2xx to CONNECT → `.none`; chunked; Content-Length;
    /// else `.untilClose`.
    public var framing: BodyFraming
    /// The Content-Length value the head declared (-1 when none), whatever `framing` says: a HEAD or 304
    /// response states the length of the representation without carrying it.
    public var contentLength: Int
    /// Whether the connection may be reused after this response (always false with `.untilClose`).
    public var keepAlive: Bool
    /// Connection names tokens other than close/keep-alive/upgrade.
    public var connectionHasCustomTokens: Bool
    /// 100...199 except 101: an interim response, another head follows on the same connection.
    public var isInformational: Bool
}
