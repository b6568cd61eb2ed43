/// Connection-level frames: DATA flow control, RST_STREAM, WINDOW_UPDATE and SETTINGS (RFC 9113 §5.2, §6).
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
            if streamID > highestStreamID { return fail(.protocolError, .idleStream, events: &events) }
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
        guard streamID <= highestStreamID else { return fail(.protocolError, .idleStream, events: &events) }
        guard let stream = streams.removeValue(forKey: streamID) else { return }  // closed: nothing to do
        closed.record(streamID, by: .client)
        if stream.delivered { events.append(.streamReset(streamID: streamID, code: code)) }
        // SPEC §10 rapid reset (CVE-2023-44487): the cost is in streams cancelled before we answered.
        if !stream.responseStarted { countReset(now: now, events: &events) }
    }

    mutating func onWindowUpdate(_ streamID: UInt32, _ increment: UInt32, now: UInt64, events: inout [HTTP2Event]) {
        if streamID == 0 {
            // §6.9, §6.9.1: on the connection both are connection errors.
            if let code = HTTP2FlowControl.grow(&connectionSendWindow, by: increment) {
                return fail(code, code == .protocolError ? .zeroWindowIncrement : .flowControl, events: &events)
            }
            events.append(.windowOpened(streamID: 0))
            return
        }
        guard streamID <= highestStreamID else { return fail(.protocolError, .idleStream, events: &events) }
        guard var stream = streams[streamID] else { return }
        // On a stream both are stream errors (§6.9, §6.9.1).
        if let code = HTTP2FlowControl.grow(&stream.sendWindow, by: increment) {
            return resetStream(streamID, code, reason: nil, peerFault: true, now: now, events: &events)
        }
        streams[streamID] = stream
        events.append(.windowOpened(streamID: streamID))
    }

    mutating func onSettings(ack: Bool, _ payload: UnsafeRawBufferPointer, now: UInt64, events: inout [HTTP2Event]) {
        if ack {
            acknowledgeLocalSettings()
            return
        }
        if controlFrameSeen(now) { return fail(.enhanceYourCalm, .controlFrameFlood, events: &events) }
        let largest = streams.values.lazy.map(\.sendWindow).max()
        switch peer.apply(payload, role: .server, largestSendWindow: largest) {
        case .failure(let code):
            fail(code, code == .flowControlError ? .flowControl : .invalidSetting, events: &events)
        case .success(let update):
            if update.headerTableChanged { encoder.peerTableSizeChanged() }
            if update.windowDelta != 0 {
                for key in streams.keys { streams[key]?.sendWindow += update.windowDelta }
            }
            HTTP2FrameWriter.settings([], ack: true, into: &outbound)
            if update.windowDelta > 0 { events.append(.windowOpened(streamID: 0)) }
        }
    }

    /// The client acknowledged our SETTINGS: streams opened before used the default window (§6.9.2 applies in
    /// reverse, our receive windows move by the difference).
    private mutating func acknowledgeLocalSettings() {
        guard !localSettingsAcked else { return }
        localSettingsAcked = true
        let delta = limits.initialWindowBytes - HTTP2Window.initial
        for key in streams.keys { streams[key]?.recvWindow += delta }
    }

    // MARK: - Receive windows

    /// The caller passed on (or dropped) `bytes` of body delivered on `streamID`: give the peer that much window
    /// back, on the stream while it can still send and on the connection always. WINDOW_UPDATE is sent once half a
    /// window is owed, so a stream of small reads does not cost a frame per read.
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
