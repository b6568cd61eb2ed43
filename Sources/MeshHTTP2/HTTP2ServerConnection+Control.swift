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
            return creditConnection(flowLength)
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
        if stream.delivered { events.append(.streamReset(streamID: streamID, code: code)) }
        // SPEC §10 rapid reset (CVE-2023-44487): the cost is in streams cancelled before we answered.
        if !stream.responseStarted { countReset(now: now, events: &events) }
    }

    mutating func onWindowUpdate(_ streamID: UInt32, _ increment: UInt32, now: UInt64, events: inout [HTTP2Event]) {
        let increment = Int(increment)
        if streamID == 0 {
            // §6.9: a zero increment is a PROTOCOL_ERROR; §6.9.1: a window over 2^31−1 a FLOW_CONTROL_ERROR.
            guard increment > 0 else { return fail(.protocolError, .zeroWindowIncrement, events: &events) }
            guard connectionSendWindow + increment <= HTTP2Window.max else {
                return fail(.flowControlError, .flowControl, events: &events)
            }
            connectionSendWindow += increment
            events.append(.windowOpened(streamID: 0))
            return
        }
        guard streamID <= highestStreamID else { return fail(.protocolError, .idleStream, events: &events) }
        guard let stream = streams[streamID] else { return }
        // On a stream both are stream errors (§6.9, §6.9.1).
        guard increment > 0 else {
            return resetStream(streamID, .protocolError, reason: nil, peerFault: true, now: now, events: &events)
        }
        guard stream.sendWindow + increment <= HTTP2Window.max else {
            return resetStream(streamID, .flowControlError, reason: nil, peerFault: true, now: now, events: &events)
        }
        streams[streamID]?.sendWindow += increment
        events.append(.windowOpened(streamID: streamID))
    }

    mutating func onSettings(ack: Bool, _ payload: UnsafeRawBufferPointer, now: UInt64, events: inout [HTTP2Event]) {
        if ack {
            acknowledgeLocalSettings()
            return
        }
        if controlFrameSeen(now) { return fail(.enhanceYourCalm, .controlFrameFlood, events: &events) }
        var offset = 0
        var grew = false
        while offset + 6 <= payload.count {
            let identifier = UInt16(payload[offset]) << 8 | UInt16(payload[offset + 1])
            let value = readUInt32(payload, at: offset + 2)
            offset += 6
            switch apply(identifier, value) {
            case .failure(let code): return fail(code, code == .flowControlError ? .flowControl : .invalidSetting,
                events: &events)
            case .success(let windowGrew): grew = grew || windowGrew
            }
        }
        HTTP2FrameWriter.settings([], ack: true, into: &outbound)
        if grew { events.append(.windowOpened(streamID: 0)) }
    }

    /// Applies one peer setting; returns whether stream send windows grew.
    private mutating func apply(_ identifier: UInt16, _ value: UInt32) -> Result<Bool, HTTP2ErrorCode> {
        switch identifier {
        case HTTP2Setting.headerTableSize:
            encoder.peerTableSizeChanged()
        case HTTP2Setting.enablePush, HTTP2Setting.enableConnectProtocol:
            if value > 1 { return .failure(.protocolError) }  // §6.5.2, RFC 8441 §3: only 0 or 1
        case HTTP2Setting.initialWindowSize:
            guard value <= UInt32(HTTP2Window.max) else { return .failure(.flowControlError) }  // §6.5.2
            let delta = Int(value) - peerInitialWindow
            // §6.9.2: every open stream's window moves by the difference; one pushed past 2^31−1 is a
            // connection FLOW_CONTROL_ERROR.
            for stream in streams.values where stream.sendWindow + delta > HTTP2Window.max {
                return .failure(.flowControlError)
            }
            for key in streams.keys { streams[key]?.sendWindow += delta }
            peerInitialWindow = Int(value)
            return .success(delta > 0)
        case HTTP2Setting.maxFrameSize:
            guard (16_384...16_777_215).contains(value) else { return .failure(.protocolError) }  // §6.5.2
            peerMaxFrameSize = Int(value)
        default:
            break  // MAX_CONCURRENT_STREAMS and MAX_HEADER_LIST_SIZE limit what we send; we never push
        }
        return .success(false)
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
        stream.recvPending += bytes
        if stream.recvPending >= max(limits.initialWindowBytes / 2, 1) {
            let increment = min(stream.recvPending, HTTP2Window.max - stream.recvWindow)
            if increment > 0 {
                HTTP2FrameWriter.windowUpdate(streamID: streamID, increment: UInt32(increment), into: &outbound)
                stream.recvWindow += increment
            }
            stream.recvPending = 0
        }
        streams[streamID] = stream
    }

    mutating func creditConnection(_ bytes: Int) {
        guard bytes > 0 else { return }
        connectionRecvPending += bytes
        guard connectionRecvPending >= connectionWindowTarget / 2 else { return }
        let increment = min(connectionRecvPending, HTTP2Window.max - connectionRecvWindow)
        if increment > 0 {
            HTTP2FrameWriter.windowUpdate(streamID: 0, increment: UInt32(increment), into: &outbound)
            connectionRecvWindow += increment
        }
        connectionRecvPending = 0
    }
}
