/// What the server and the client side of a connection do alike, written once: the frame loop, the sequencing
/// rules every frame is subject to (§3.4 SETTINGS first, §6.10 contiguous field blocks), WINDOW_UPDATE and
/// SETTINGS from the peer, receive-window credit and the control-frame budget. Each role supplies its stream table,
/// its header-block and DATA rules, and the frames only one role treats its own way (RST_STREAM, PING, GOAWAY,
/// PUSH_PROMISE).
///
/// The shared code touches at most one stored property of the connection per inout access, so it compiles to the
/// same accesses as the concrete code did (two at once through a protocol would overlap on `self`).
protocol HTTP2Endpoint {
    associatedtype Event: HTTP2EndpointEvent
    associatedtype Stream: HTTP2StreamWindows

    var limits: HTTP2Limits { get }
    var isClosed: Bool { get }
    var streams: StreamTable<Stream> { get set }
    var outbound: [UInt8] { get set }
    var encoder: HPACKEncoder { get set }
    var peer: HTTP2PeerSettings { get set }
    var connectionSendWindow: Int { get set }
    var connectionRecvWindow: Int { get set }
    var connectionRecvPending: Int { get set }
    var connectionWindowTarget: Int { get }
    var localSettingsAcked: Bool { get set }
    var controlBudget: RateWindow { get set }
    /// The block being assembled from HEADERS and CONTINUATION frames, nil between blocks.
    var blockInProgress: HeaderBlockAssembler.Pending? { get }
    /// The peer's first SETTINGS is still to come.
    var awaitingPeerSettings: Bool { get }
    /// We sent END_STREAM on `streamID`.
    mutating func endLocal(_ streamID: UInt32)
    /// How this side reads the peer's SETTINGS.
    static var peerRole: HTTP2PeerSettings.Role { get }

    /// The peer's first SETTINGS arrived: frames flow.
    mutating func peerSettingsArrived()
    /// A stream id the peer may not use yet (§5.1 "idle").
    func isIdle(_ streamID: UInt32) -> Bool
    /// Ends the connection with GOAWAY `code`; nothing is processed after it.
    mutating func fail(_ code: HTTP2ErrorCode, _ reason: HTTP2ConnectionFailure, events: inout [Event])
    /// The peer broke a stream-level rule on `streamID` (§5.4.2).
    mutating func peerStreamError(_ streamID: UInt32, _ code: HTTP2ErrorCode, now: UInt64, events: inout [Event])
    mutating func onData(
        _ streamID: UInt32, _ payload: UnsafeRawBufferPointer, flowLength: Int, endStream: Bool, now: UInt64,
        events: inout [Event])
    mutating func onHeaders(
        _ block: HeaderBlockAssembler.Pending, _ fragment: UnsafeRawBufferPointer, endHeaders: Bool, now: UInt64,
        events: inout [Event])
    /// Adds a fragment to the block in progress (the assembler and the HPACK decoder, both the connection's).
    mutating func assemble(_ fragment: UnsafeRawBufferPointer, endHeaders: Bool) -> HeaderBlockAssembler.Outcome
    mutating func blockComplete(
        _ block: HeaderBlockAssembler.Pending, _ fields: HTTP2HeaderList, tooLarge: Bool, now: UInt64,
        events: inout [Event])
    /// The peer's new SETTINGS were applied (`old` is what they replaced).
    mutating func peerSettingsChanged(from old: HTTP2PeerSettings, events: inout [Event])
    /// RST_STREAM, PING, GOAWAY and PUSH_PROMISE, which each role answers its own way.
    mutating func onRoleFrame(_ frame: HTTP2Frame, now: UInt64, events: inout [Event])
}

/// The events both roles report the same way.
protocol HTTP2EndpointEvent {
    static func windowOpened(streamID: UInt32) -> Self
}

extension HTTP2Event: HTTP2EndpointEvent {}
extension HTTP2ClientEvent: HTTP2EndpointEvent {}

/// The per-stream state the shared code reads and moves.
protocol HTTP2StreamWindows {
    var phase: HTTP2Stream.Phase { get }
    var sendWindow: Int { get set }
    var recvWindow: Int { get set }
    var recvPending: Int { get set }
}

extension HTTP2Stream: HTTP2StreamWindows {}
extension HTTP2ClientStream: HTTP2StreamWindows {}

extension HTTP2Endpoint {
    // MARK: - Frames

    /// Runs every complete frame in `buffer` from `offset`; returns the octets used.
    mutating func runFrames(
        _ buffer: UnsafeRawBufferPointer, from offset: Int, now: UInt64, events: inout [Event]
    ) -> Int {
        var offset = offset
        while !isClosed {
            let rest = UnsafeRawBufferPointer(rebasing: buffer[offset...])
            switch HTTP2FrameParser.parse(rest, maxFrameSize: limits.maxFrameBytes) {
            case .incomplete:
                return offset
            case .connectionError(let code):
                fail(code, .malformedFrame, events: &events)
            case .streamError(let streamID, let code, let consumed):
                offset += consumed
                if awaitingPeerSettings || blockInProgress != nil {
                    fail(
                        .protocolError, awaitingPeerSettings ? .settingsExpected : .headerBlockInterrupted,
                        events: &events)
                } else if streams[streamID] != nil {
                    peerStreamError(streamID, code, now: now, events: &events)
                }
            case .frame(let frame, let consumed):
                offset += consumed
                handle(frame, rest, now: now, events: &events)
            }
        }
        return offset
    }

    /// Checks the sequencing rules every frame is subject to, then dispatches it.
    private mutating func handle(
        _ frame: HTTP2Frame, _ buffer: UnsafeRawBufferPointer, now: UInt64, events: inout [Event]
    ) {
        if awaitingPeerSettings {
            // §3.4: the peer's preface is (or ends with) a SETTINGS frame, not an ACK.
            guard case .settings(ack: false, _) = frame else {
                return fail(.protocolError, .settingsExpected, events: &events)
            }
            peerSettingsArrived()
        }
        if let pending = blockInProgress {
            // §6.10: a field block is a contiguous run of frames on one stream.
            guard case .continuation(let streamID, _, _) = frame, streamID == pending.streamID else {
                return fail(.protocolError, .headerBlockInterrupted, events: &events)
            }
        }
        switch frame {
        case .data(let streamID, let payload, let flowLength, let endStream):
            onData(
                streamID, UnsafeRawBufferPointer(rebasing: buffer[payload]), flowLength: flowLength,
                endStream: endStream, now: now, events: &events)
        case .headers(let streamID, let fragment, let endStream, let endHeaders, let selfDependent):
            let block = HeaderBlockAssembler.Pending(
                streamID: streamID, purpose: .head, endStream: endStream, selfDependent: selfDependent)
            onHeaders(
                block, UnsafeRawBufferPointer(rebasing: buffer[fragment]), endHeaders: endHeaders,
                now: now, events: &events)
        case .continuation(_, let fragment, let endHeaders):
            guard blockInProgress != nil else { return fail(.protocolError, .headerBlockInterrupted, events: &events) }
            if fragment.isEmpty && !endHeaders && controlFrameSeen(now) {
                return fail(.enhanceYourCalm, .controlFrameFlood, events: &events)
            }
            addFragment(
                UnsafeRawBufferPointer(rebasing: buffer[fragment]), endHeaders: endHeaders, now: now,
                events: &events)
        case .settings(let ack, let payload):
            onSettings(ack: ack, UnsafeRawBufferPointer(rebasing: buffer[payload]), now: now, events: &events)
        case .windowUpdate(let streamID, let increment):
            onWindowUpdate(streamID, increment, now: now, events: &events)
        case .rstStream, .ping, .goAway, .pushPromise:
            onRoleFrame(frame, now: now, events: &events)
        case .priority, .unknown:
            break  // §5.3.2: priority signals are ignored; §5.5: unknown frame types are ignored
        }
    }

    /// Counts a SETTINGS, PING or empty frame; true when the budget is spent.
    mutating func controlFrameSeen(_ now: UInt64) -> Bool {
        controlBudget.record(now: now, limit: limits.maxControlFramesPerSecond)
    }

    // MARK: - Header blocks

    mutating func addFragment(
        _ fragment: UnsafeRawBufferPointer, endHeaders: Bool, now: UInt64, events: inout [Event]
    ) {
        switch assemble(fragment, endHeaders: endHeaders) {
        case .needMore:
            return
        case .compressionError:
            fail(.compressionError, .compression, events: &events)
        case .tooLargeBeforeEnd:
            // SPEC §10: a block passing the limit before END_HEADERS is a CONTINUATION flood or an HPACK bomb.
            fail(.enhanceYourCalm, .headerBlockTooLarge, events: &events)
        case .complete(let block, let fields, let tooLarge):
            blockComplete(block, fields, tooLarge: tooLarge, now: now, events: &events)
        }
    }

    // MARK: - Flow control and SETTINGS

    private mutating func onWindowUpdate(
        _ streamID: UInt32, _ increment: UInt32, now: UInt64, events: inout [Event]
    ) {
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
            return peerStreamError(streamID, code, now: now, events: &events)
        }
        streams[streamID] = stream
        events.append(.windowOpened(streamID: streamID))
    }

    /// The peer's SETTINGS, or the ACK of ours.
    private mutating func onSettings(
        ack: Bool, _ payload: UnsafeRawBufferPointer, now: UInt64, events: inout [Event]
    ) {
        if ack { return acknowledgeLocalSettings() }
        if controlFrameSeen(now) { return fail(.enhanceYourCalm, .controlFrameFlood, events: &events) }
        let before = peer
        let largest = streams.values.lazy.map(\.sendWindow).max()
        switch peer.apply(payload, role: Self.peerRole, largestSendWindow: largest) {
        case .failure(let code):
            fail(code, code == .flowControlError ? .flowControl : .invalidSetting, events: &events)
        case .success(let update):
            if update.headerTableChanged { encoder.peerTableSizeChanged() }
            if update.windowDelta != 0 {
                for key in streams.ids { streams[key]?.sendWindow += update.windowDelta }
            }
            HTTP2FrameWriter.settings([], ack: true, into: &outbound)
            if update.windowDelta > 0 { events.append(.windowOpened(streamID: 0)) }
            peerSettingsChanged(from: before, events: &events)
        }
    }

    /// The peer acknowledged our SETTINGS: streams opened before used the default window (§6.9.2 applies in
    /// reverse, our receive windows move by the difference).
    private mutating func acknowledgeLocalSettings() {
        guard !localSettingsAcked else { return }
        localSettingsAcked = true
        let delta = limits.initialWindowBytes - HTTP2Window.initial
        for key in streams.ids { streams[key]?.recvWindow += delta }
    }

    // MARK: - Receive windows

    /// `bytes` of body delivered on `streamID` were passed on or dropped: the peer gets that much window back, on
    /// the stream while it can still send and on the connection always (even if the stream is gone). WINDOW_UPDATE
    /// is sent once half a window is owed, so a stream of small reads does not cost a frame per read.
    mutating func credit(streamID: UInt32, bytes: Int) {
        guard bytes > 0, !isClosed else { return }
        creditConnection(bytes)
        guard var stream = streams[streamID], stream.phase != .halfClosedRemote else { return }
        var window = stream.recvWindow
        var pending = stream.recvPending
        HTTP2FlowControl.credit(
            bytes, streamID: streamID, window: &window, pending: &pending, threshold: limits.initialWindowBytes / 2,
            into: &outbound)
        stream.recvWindow = window
        stream.recvPending = pending
        streams[streamID] = stream
    }

    mutating func creditConnection(_ bytes: Int) {
        var window = connectionRecvWindow
        var pending = connectionRecvPending
        HTTP2FlowControl.credit(
            bytes, streamID: 0, window: &window, pending: &pending, threshold: connectionWindowTarget / 2,
            into: &outbound)
        connectionRecvWindow = window
        connectionRecvPending = pending
    }

    // MARK: - Stream entries

    /// Changes `streamID`'s entry in place when there is one (not `streams[id]?.field = x`: a `_modify` coroutine
    /// frame was a malloc per call when the table was a `Dictionary`).
    @inline(__always)
    mutating func updateStream(_ streamID: UInt32, _ change: (inout Stream) -> Void) {
        _ = streams.update(streamID, change)
    }

    // MARK: - Writing

    /// Queues our SETTINGS (`first`, then the windows, frame and header-list sizes, and the HPACK table size when
    /// it is not the default) and a connection WINDOW_UPDATE raising the receive window to its target (SPEC §10:
    /// streams × window). Called once, at creation.
    mutating func queueLocalSettings(first: (UInt16, UInt32)) {
        var settings: [(UInt16, UInt32)] = [
            first,
            (HTTP2Setting.initialWindowSize, UInt32(limits.initialWindowBytes)),
            (HTTP2Setting.maxFrameSize, UInt32(limits.maxFrameBytes)),
            (HTTP2Setting.maxHeaderListSize, UInt32(clamping: limits.maxHeaderBytes)),
        ]
        if limits.headerTableBytes != 4096 {
            settings.append((HTTP2Setting.headerTableSize, UInt32(limits.headerTableBytes)))
        }
        HTTP2FrameWriter.settings(settings, into: &outbound)
        let raise = connectionWindowTarget - HTTP2Window.initial
        if raise > 0 {
            HTTP2FrameWriter.windowUpdate(streamID: 0, increment: UInt32(raise), into: &outbound)
            connectionRecvWindow += raise
        }
    }

    /// The stream when we may still send on it.
    func writableStream(_ streamID: UInt32) throws(HTTP2WriteError) -> Stream {
        guard !isClosed else { throw .connectionClosed }
        guard let stream = streams[streamID] else { throw .unknownStream }
        guard stream.phase != .halfClosedLocal else { throw .alreadyEnded }
        return stream
    }

    /// Queues as much of `bytes` on `streamID` (writable, with `sendWindow`) as the connection window and the
    /// outbound budget allow; returns how much. END_STREAM goes only with the last octet.
    mutating func queueData(
        _ streamID: UInt32, sendWindow: Int, _ bytes: UnsafeRawBufferPointer, endStream: Bool
    ) -> Int {
        // Regression: issue 12 — DATA filled the output to the budget and its frame headers took it past: the
        // next input fed (a WINDOW_UPDATE) ended a reading client's connection with ENHANCE_YOUR_CALM.
        let room = limits.maxOutboundBytes - HTTP2Limits.controlHeadroom - outbound.count
        let headers = 9 * ((room + peer.maxFrameSize - 1) / peer.maxFrameSize)
        let allowed = max(0, min(bytes.count, connectionSendWindow, sendWindow, room - headers))
        let finishing = endStream && allowed == bytes.count
        HTTP2FrameWriter.data(
            streamID: streamID, bytes: UnsafeRawBufferPointer(rebasing: bytes[0..<allowed]), endStream: finishing,
            maxFrameSize: peer.maxFrameSize, into: &outbound)
        connectionSendWindow -= allowed
        updateStream(streamID) { $0.sendWindow -= allowed }
        if finishing { endLocal(streamID) }
        return allowed
    }

    // MARK: - Outbound buffer

    mutating func drainQueued(_ body: (UnsafeRawBufferPointer) -> Int) {
        let written = outbound.withUnsafeBytes { body($0) }
        outbound.removeSubrange(0..<min(max(written, 0), outbound.count))
    }

    mutating func takeQueued() -> [UInt8] {
        defer { outbound.removeAll(keepingCapacity: true) }
        return outbound
    }
}
