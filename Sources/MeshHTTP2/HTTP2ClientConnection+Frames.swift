/// Frames other than header blocks: DATA and flow control, RST_STREAM, SETTINGS, PING and GOAWAY (RFC 9113 §6).
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

    mutating func onWindowUpdate(_ streamID: UInt32, _ increment: UInt32, events: inout [HTTP2ClientEvent]) {
        if streamID == 0 {
            // §6.9, §6.9.1: on the connection both are connection errors.
            if let code = HTTP2FlowControl.grow(&connectionSendWindow, by: increment) {
                return fail(code, code == .protocolError ? .zeroWindowIncrement : .flowControl, events: &events)
            }
            events.append(.windowOpened(streamID: 0))
            return
        }
        guard !isIdle(streamID) else { return fail(.protocolError, .idleStream, events: &events) }
        guard var stream = streams[streamID] else { return }
        // On a stream both are stream errors (§6.9, §6.9.1).
        if let code = HTTP2FlowControl.grow(&stream.sendWindow, by: increment) {
            return resetStream(streamID, code, reason: nil, events: &events)
        }
        streams[streamID] = stream
        events.append(.windowOpened(streamID: streamID))
    }

    mutating func onSettings(
        ack: Bool, _ payload: UnsafeRawBufferPointer, now: UInt64, events: inout [HTTP2ClientEvent]
    ) {
        if ack {
            acknowledgeLocalSettings()
            return
        }
        if controlFrameSeen(now) { return fail(.enhanceYourCalm, .controlFrameFlood, events: &events) }
        let limitBefore = streamLimit
        let largest = streams.values.lazy.map(\.sendWindow).max()
        switch peer.apply(payload, role: .client, largestSendWindow: largest) {
        case .failure(let code):
            fail(code, code == .flowControlError ? .flowControl : .invalidSetting, events: &events)
        case .success(let update):
            if update.headerTableChanged { encoder.peerTableSizeChanged() }
            if update.windowDelta != 0 {
                for key in streams.keys { streams[key]?.sendWindow += update.windowDelta }
            }
            HTTP2FrameWriter.settings([], ack: true, into: &outbound)
            if update.windowDelta > 0 { events.append(.windowOpened(streamID: 0)) }
            if streamLimit != limitBefore { events.append(.streamLimitChanged(limit: streamLimit)) }
        }
    }

    /// The server acknowledged our SETTINGS: streams opened before used the default window (§6.9.2 applies in
    /// reverse, our receive windows move by the difference).
    private mutating func acknowledgeLocalSettings() {
        guard !localSettingsAcked else { return }
        localSettingsAcked = true
        let delta = limits.initialWindowBytes - HTTP2Window.initial
        for key in streams.keys { streams[key]?.recvWindow += delta }
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
        for streamID in streams.keys.sorted() where streamID > lastStreamID {
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
    /// WINDOW_UPDATE is sent once half a window is owed.
    public mutating func consumed(streamID: UInt32, bytes: Int) {
        guard bytes > 0, !isClosed else { return }
        creditConnection(bytes)
        guard var stream = streams[streamID], stream.phase != .halfClosedRemote else { return }
        HTTP2FlowControl.credit(
            bytes, streamID: streamID, window: &stream.recvWindow, pending: &stream.recvPending,
            threshold: limits.initialWindowBytes / 2, into: &outbound)
        streams[streamID] = stream
    }

    mutating func creditConnection(_ bytes: Int) {
        HTTP2FlowControl.credit(
            bytes, streamID: 0, window: &connectionRecvWindow, pending: &connectionRecvPending,
            threshold: connectionWindowTarget / 2, into: &outbound)
    }
}
