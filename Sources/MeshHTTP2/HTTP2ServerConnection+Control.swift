/// DATA and RST_STREAM as the server takes them (RFC 9113 §5.2, §6); WINDOW_UPDATE and SETTINGS are in
/// `HTTP2Endpoint`.
extension HTTP2ServerConnection {
    mutating func onData(
        _ streamID: UInt32, _ payload: UnsafeRawBufferPointer, flowLength: Int, endStream: Bool, now: UInt64,
        events: inout [HTTP2Event]
    ) {
        // §6.9: the whole frame, padding included, counts against both windows.
        guard flowLength <= connectionRecvWindow else { return fail(.flowControlError, .flowControl, events: &events) }
        connectionRecvWindow -= flowLength
        guard var stream = streams[streamID] else {
            // §5.1: DATA on an idle stream is a connection error; on a closed one it is dropped, but it used
            // connection window, which is given back at once.
            if isIdle(streamID) { return fail(.protocolError, .idleStream, events: &events) }
            creditConnection(flowLength)
            // §6.1: on a stream the client closed it is STREAM_CLOSED (as a connection error, §5.1 allows it:
            // a flood of such frames then costs one GOAWAY, not one RST_STREAM each).
            if closed.closer(of: streamID) == .client { fail(.streamClosed, .closedStream, events: &events) }
            return
        }
        if payload.isEmpty && !endStream && controlFrameSeen(now) {
            return fail(.enhanceYourCalm, .controlFrameFlood, events: &events)
        }
        guard stream.phase != .halfClosedRemote, flowLength <= stream.recvWindow else {
            creditConnection(flowLength)
            let code: HTTP2ErrorCode = stream.phase == .halfClosedRemote ? .streamClosed : .flowControlError
            return resetStream(streamID, code, reason: nil, peerFault: true, now: now, events: &events)
        }
        stream.recvWindow -= flowLength
        stream.received += payload.count
        streams[streamID] = stream
        // Padding is never delivered, so it is credited back now.
        let padding = flowLength - payload.count
        if padding > 0 { consumed(streamID: streamID, bytes: padding) }
        if let length = stream.contentLength, stream.received > length || (endStream && stream.received != length) {
            creditConnection(payload.count)
            return malformedBody(streamID, now: now, events: &events)
        }
        if stream.discardBody {
            consumed(streamID: streamID, bytes: payload.count)
        } else if stream.delivered {
            events.append(.data(streamID: streamID, bytes: Array(payload), endStream: endStream))
        }
        if endStream { endRemote(streamID) }
    }

    private mutating func malformedBody(_ streamID: UInt32, now: UInt64, events: inout [HTTP2Event]) {
        resetStream(streamID, .protocolError, reason: .contentLengthMismatch, peerFault: true, now: now, events: &events)
    }

    mutating func onRstStream(_ streamID: UInt32, _ code: HTTP2ErrorCode, now: UInt64, events: inout [HTTP2Event]) {
        // §6.4: RST_STREAM on an idle stream is a connection PROTOCOL_ERROR.
        guard !isIdle(streamID) else { return fail(.protocolError, .idleStream, events: &events) }
        guard let stream = streams.removeValue(forKey: streamID) else { return }  // closed: nothing to do
        closed.record(streamID, by: .client)
        if stream.delivered { events.append(.streamReset(streamID: streamID, code: code)) }
        // SPEC §10 rapid reset (CVE-2023-44487): the cost is in streams cancelled before we answered.
        if !stream.responseStarted { countReset(now: now, events: &events) }
    }

    // MARK: - Receive windows

    /// The caller passed on (or dropped) `bytes` of body delivered on `streamID`: give the peer that much window
    /// back, on the stream while it can still send and on the connection always. WINDOW_UPDATE is sent once half a
    /// window is owed, so a stream of small reads does not cost a frame per read.
    public mutating func consumed(streamID: UInt32, bytes: Int) { credit(streamID: streamID, bytes: bytes) }
}
