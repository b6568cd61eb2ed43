/// Size limits the head parsers enforce, so a peer cannot make us buffer or scan without bound.
///
/// Owned by the listener configuration (SPEC §3 `limits.max_header_bytes`) and copied into every parser.
/// Exceeding a limit turns the parse into `.invalid` with the error whose `status` SPEC §4 names (414 / 431).
public struct HTTPLimits: Sendable {
    /// Largest head, request/status line and final CRLFCRLF included. Over it: `.headersTooLarge` (431).
    public var maxHeaderBytes: Int
    /// Most header field lines in one head. Over it: `.tooManyHeaders` (431).
    public var maxHeaderCount: Int
    /// Longest request-target. Over it: `.uriTooLong` (414).
    public var maxURIBytes: Int

    /// Creates limits; the defaults are SPEC §3/§4's (64 KiB head, 100 fields, 8 KiB target).
    public init(maxHeaderBytes: Int = 65536, maxHeaderCount: Int = 100, maxURIBytes: Int = 8192) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxURIBytes = maxURIBytes
    }
}
