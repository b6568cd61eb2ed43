/// The state the client keeps per stream; like the server's, idle and closed streams have no entry (§5.1).
struct HTTP2ClientStream: Sendable {
    var phase: HTTP2Stream.Phase = .open
    /// What we may still send (may go negative after a SETTINGS_INITIAL_WINDOW_SIZE decrease, §6.9.2).
    var sendWindow: Int
    /// What the peer may still send us.
    var recvWindow: Int
    /// Bytes the caller consumed that we have not yet returned with WINDOW_UPDATE.
    var recvPending = 0
    /// The request was HEAD: the response has no content (RFC 9110 §9.3.2).
    var noContent: Bool
    /// The final response head was delivered; a later HEADERS is the trailer section.
    var responseStarted = false
    /// DATA octets the response must carry (`content-length`, or 0 for HEAD/204/304), nil when unknown.
    var expectedLength: Int?
    /// DATA payload octets received.
    var received = 0
}
