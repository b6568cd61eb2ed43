/// DATA, RST_STREAM, PING and GOAWAY as the client takes them (RFC 9113 §6); WINDOW_UPDATE and SETTINGS are in
/// `HTTP2Endpoint`.
extension HTTP2ClientConnection {
    mutating func onData(
        _ streamID: UInt32, _ payload: UnsafeRawBufferPointer, flowLength: Int, endStream: Bool, now: UInt64,
        events: inout [HTTP2ClientEvent]
    ) {
        // §6.9: the whole frame, padding included, counts against both windows.
        guard flowLength <= connectionRecvWindow else { return fail(.flowControlError, .flowControl, events: &events) }
        connectionRecvWindow -= flowLength
        guard var stream = streams[streamID] else {
            // §5.1: DATA on an idle stream is a connection error; on a closed one it is dropped, but it used
            // connection window, which is given back at once.
            if isIdle(streamID) { return fail(.protocolError, .idleStream, events: &events) }
            return creditConnection(flowLength)
        }
        if payload.isEmpty && !endStream && controlFrameSeen(now) {
            return fail(.enhanceYourCalm, .controlFrameFlood, events: &events)
        }
        guard stream.phase != .halfClosedRemote, flowLength <= stream.recvWindow else {
            creditConnection(flowLength)
            let code: HTTP2ErrorCode = stream.phase == .halfClosedRemote ? .streamClosed : .flowControlError
            return resetStream(streamID, code, reason: nil, events: &events)
        }
        // §8.1: DATA comes after the final response head.
        guard stream.responseStarted else {
            creditConnection(flowLength)
            return resetStream(streamID, .protocolError, reason: .dataBeforeResponse, events: &events)
        }
        stream.recvWindow -= flowLength
        stream.received += payload.count
        streams[streamID] = stream
        // Padding is never delivered, so it is credited back now.
        let padding = flowLength - payload.count
        if padding > 0 { consumed(streamID: streamID, bytes: padding) }
        if let length = stream.expectedLength, stream.received > length || (endStream && stream.received != length) {
            creditConnection(payload.count)
            return resetStream(streamID, .protocolError, reason: .contentLengthMismatch, events: &events)
        }
        events.append(.data(streamID: streamID, bytes: Array(payload), endStream: endStream))
        if endStream { endRemote(streamID) }
    }

    mutating func onRstStream(_ streamID: UInt32, _ code: HTTP2ErrorCode, events: inout [HTTP2ClientEvent]) {
        // §6.4: RST_STREAM on an idle stream is a connection PROTOCOL_ERROR.
        guard !isIdle(streamID) else { return fail(.protocolError, .idleStream, events: &events) }
        guard let stream = streams.removeValue(forKey: streamID) else { return }  // closed: nothing to do
        // §8.7: REFUSED_STREAM means no application processing happened; once a head arrived it did.
        let retrySafe = code == .refusedStream && !stream.responseStarted
        events.append(.streamReset(streamID: streamID, code: code, retrySafe: retrySafe))
    }

    mutating func onPing(ack: Bool, opaque: UInt64, now: UInt64, events: inout [HTTP2ClientEvent]) {
        if controlFrameSeen(now) { return fail(.enhanceYourCalm, .controlFrameFlood, events: &events) }
        guard ack else {
            HTTP2FrameWriter.ping(opaque: opaque, ack: true, into: &outbound)  // §6.7: same opaque data
            return
        }
        guard let ping = pingInFlight, ping.opaque == opaque else { return }  // unsolicited ACK: ignored
        pingInFlight = nil
        events.append(.pingAcknowledged(roundTrip: now &- ping.sentAt))
    }

    mutating func onGoAway(_ lastStreamID: UInt32, _ code: HTTP2ErrorCode, events: inout [HTTP2ClientEvent]) {
        // §6.8: streams above last-stream-id were not processed and never will be; a later GOAWAY may lower it.
        goAwayReceived = min(goAwayReceived ?? .max, lastStreamID)
        var unprocessed: [UInt32] = []
        for streamID in streams.ids.sorted() where streamID > lastStreamID {
            if streams[streamID]?.responseStarted == true {
                // It answered, so it did process it: a contradiction, never "safe to retry".
                resetStream(streamID, .protocolError, reason: nil, events: &events)
            } else {
                streams[streamID] = nil
                unprocessed.append(streamID)
            }
        }
        events.append(.goAway(lastStreamID: lastStreamID, code: code, unprocessed: unprocessed))
    }

    // MARK: - Receive windows

    /// The caller passed on (or dropped) `bytes` of body delivered on `streamID`: give the peer that much window
    /// back, on the stream while it can still send and on the connection always (even if the stream is gone).
    public mutating func consumed(streamID: UInt32, bytes: Int) { credit(streamID: streamID, bytes: bytes) }
}
