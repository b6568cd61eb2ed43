/// Something the caller must act on, produced by `HTTP2ClientConnection.feed`. Events for one stream come in order;
/// PING, SETTINGS and flow-control bookkeeping are handled inside. Informational (1xx) responses produce none.
public enum HTTP2ClientEvent: Sendable, Equatable {
    /// The final response head of `streamID` (RFC 9113 §8.3.2 validated); `endStream` means it has no body.
    case response(streamID: UInt32, head: HTTP2ResponseHead, endStream: Bool)
    /// Response body bytes. Call `consumed(streamID:bytes:)` once they are passed on (or dropped): that re-opens
    /// the peer's windows.
    case data(streamID: UInt32, bytes: [UInt8], endStream: Bool)
    /// The response's trailer section (it always ends the response; gRPC's `grpc-status` lives here).
    case trailers(streamID: UInt32, fields: HTTP2HeaderList)
    /// The peer reset `streamID` (RST_STREAM). `retrySafe`: REFUSED_STREAM before any response head, which
    /// RFC 9113 §8.7 guarantees was not processed, so the request may go again (SPEC §10: as `connect-failure`).
    /// NO_ERROR after a complete response only asks us to stop sending the request body (§8.1).
    case streamReset(streamID: UInt32, code: HTTP2ErrorCode, retrySafe: Bool)
    /// We reset `streamID` because the peer broke a stream-level rule (malformed or oversized response, flow
    /// control, content-length mismatch, a frame on a half-closed stream): abandon the exchange. `reason` is nil
    /// for flow-control and stream-state errors.
    case streamFailed(streamID: UInt32, code: HTTP2ErrorCode, reason: HTTP2Malformation?)
    /// The peer sent GOAWAY: no new streams on this connection. `unprocessed` lists our open streams above
    /// `lastStreamID`, which the peer did not and will not process (§6.8): they are closed here and are safe to
    /// retry on another connection. Streams at or below it go on (with NO_ERROR; after an error code the peer
    /// is closing, and they fail when the socket does). Close once `activeStreamCount` is 0.
    case goAway(lastStreamID: UInt32, code: HTTP2ErrorCode, unprocessed: [UInt32])
    /// Send window grew on `streamID`, or on the connection when 0 (retry every blocked stream).
    case windowOpened(streamID: UInt32)
    /// How many streams may be open at once changed (the peer's SETTINGS_MAX_CONCURRENT_STREAMS, capped by our
    /// `maxConcurrentStreams`): a queue waiting on `.concurrencyLimit` may try again.
    case streamLimitChanged(limit: Int)
    /// The answer to our `sendPing`, `roundTrip` nanoseconds after it was queued.
    case pingAcknowledged(roundTrip: UInt64)
    /// We ended the connection: GOAWAY is queued. Flush the output, then close the socket. Every stream still open
    /// is lost; whether the peer processed them is unknown, so they are not safe to retry unless idempotent.
    case connectionError(code: HTTP2ErrorCode, reason: HTTP2ConnectionFailure)
}

/// Why `HTTP2ClientConnection.openStream` refused a new stream. None of these sent anything: the request is
/// untouched and may go elsewhere.
public enum HTTP2OpenStreamError: Error, Sendable, Equatable {
    /// The connection is closed (connection error, or our `goAway` with an error code).
    case connectionClosed
    /// GOAWAY was received or sent: this connection takes no new streams; open another.
    case goingAway
    /// `activeStreamCount` is at the limit (the peer's SETTINGS_MAX_CONCURRENT_STREAMS, or our own
    /// `maxConcurrentStreams`): queue the request until a stream ends, or open another connection.
    case concurrencyLimit
    /// The next stream id would pass `streamIDHighWater`: open another connection (§5.1.1: ids cannot be reused).
    case streamIDsExhausted
    /// More than `maxOutboundBytes` is waiting for the socket: drain first.
    case outboundFull
    /// The request head breaks RFC 9113 §8.2–§8.3.1 (we never send a malformed request).
    case invalidRequest(HTTP2Malformation)
    /// The head decodes to more than the peer's SETTINGS_MAX_HEADER_LIST_SIZE (§6.5.2: it would be refused).
    case headerListTooLarge
}
