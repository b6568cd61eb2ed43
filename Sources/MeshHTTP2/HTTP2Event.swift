/// Something the caller must act on, produced by `HTTP2ServerConnection.feed`. Events for one stream come in
/// order; PING, SETTINGS and flow-control bookkeeping are handled inside and produce none.
public enum HTTP2Event: Sendable, Equatable {
    /// A validated request opened `streamID`; `endStream` means it has no body.
    case request(streamID: UInt32, head: HTTP2RequestHead, endStream: Bool)
    /// Request body bytes. Call `consumed(streamID:bytes:)` once they are passed on (or dropped) — that re-opens
    /// the peer's windows — even if the stream has since been reset.
    case data(streamID: UInt32, bytes: [UInt8], endStream: Bool)
    /// The request's trailer section (it always ends the request).
    case trailers(streamID: UInt32, fields: HTTP2HeaderList)
    /// A complete request header block decoded to more than `maxHeaderBytes`: answer 431 on the stream. Its body,
    /// if any, is discarded inside.
    case headersTooLarge(streamID: UInt32)
    /// A malformed request (RFC 9113 §8.1.1), never delivered: its stream was already reset with PROTOCOL_ERROR.
    /// For logs and metrics only.
    case malformedRequest(streamID: UInt32, HTTP2Malformation)
    /// The peer reset a stream the caller knows (RST_STREAM): abandon the exchange.
    case streamReset(streamID: UInt32, code: HTTP2ErrorCode)
    /// We reset a stream the caller knows, because the peer broke a stream-level rule (flow control, malformed
    /// trailers, content-length mismatch, frame on a half-closed stream): abandon the exchange.
    case streamFailed(streamID: UInt32, code: HTTP2ErrorCode, reason: HTTP2Malformation?)
    /// The peer sent GOAWAY; it processed no stream above `lastStreamID` (§6.8).
    case goAway(lastStreamID: UInt32, code: HTTP2ErrorCode)
    /// Send window grew on `streamID`, or on the connection when 0 (retry every blocked stream).
    case windowOpened(streamID: UInt32)
    /// We ended the connection: GOAWAY is queued. Flush the output, then close the socket.
    case connectionError(code: HTTP2ErrorCode, reason: HTTP2ConnectionFailure)
}

/// Why the connection was ended (for logs and metrics): each maps to one RFC 9113 rule or one SPEC §10 budget.
public enum HTTP2ConnectionFailure: Sendable, Equatable {
    /// The client connection preface was wrong (§3.4).
    case badPreface
    /// The first frame after the preface was not SETTINGS, or a server preface that did not start with it (§3.4).
    case settingsExpected
    /// A frame broke a §4–§6 rule checkable on its own (size, stream 0, padding).
    case malformedFrame
    /// DATA on a stream the client had already closed (§6.1, §5.1).
    case closedStream
    /// A frame other than CONTINUATION for the same stream inside a field block, or a stray CONTINUATION (§6.10).
    case headerBlockInterrupted
    /// A PUSH_PROMISE: from a client (§8.4), or from a server after our SETTINGS_ENABLE_PUSH=0 (§6.6).
    case pushPromise
    /// A frame that only an open stream may carry, on an idle stream (§5.1).
    case idleStream
    /// An even or non-increasing new stream id (§5.1.1).
    case invalidStreamID
    /// A flow-control violation on the connection, or a window pushed over 2^31−1 (§6.9).
    case flowControl
    /// A WINDOW_UPDATE of 0 on the connection (§6.9).
    case zeroWindowIncrement
    /// A SETTINGS value out of range (§6.5.2).
    case invalidSetting
    /// HPACK decoding failed (§4.3).
    case compression
    /// Rapid reset: more streams reset before their response than `maxConcurrentStreams` within 1 s (SPEC §10).
    case rapidReset
    /// More SETTINGS, PING or empty frames than `maxControlFramesPerSecond` within 1 s (SPEC §10).
    case controlFrameFlood
    /// A field block passed `maxHeaderBytes` before END_HEADERS: CONTINUATION flood or HPACK bomb (SPEC §10).
    case headerBlockTooLarge
    /// More than `maxOutboundBytes` queued for a peer that does not read (SPEC §10).
    case outboundOverflow
}
