/// The client side of one HTTP/2 connection (RFC 9113), for h2 and h2c upstreams; sans-IO like
/// `HTTP2ServerConnection`, with which it shares the frame parser and writer, HPACK, the header-block assembler,
/// the field rules, peer SETTINGS and the flow-control arithmetic.
///
/// The caller opens streams with `openStream`, sends bodies with `writeData`/`writeTrailers`, feeds the bytes it
/// read with the current monotonic time, gets `HTTP2ClientEvent`s back, and drains the outbound buffer to the
/// socket. The client preface (the magic octets, our SETTINGS with ENABLE_PUSH=0, and a connection WINDOW_UPDATE
/// raising the receive window to streams × window) is queued at creation; requests may follow it at once, before
/// the server's SETTINGS (§3.4). One connection per socket, used by one thread. After `.connectionError` everything
/// is ignored; flush the output (it ends with GOAWAY) and close.
///
/// `limits` are read from the client's point of view: `maxConcurrentStreams` caps the streams we open (the peer's
/// SETTINGS_MAX_CONCURRENT_STREAMS may lower it further) and sizes the connection receive window,
/// `initialWindowBytes` is each stream's receive window, `maxHeaderBytes` bounds a response header section
/// (advertised as SETTINGS_MAX_HEADER_LIST_SIZE), `streamIDHighWater` is the last stream id we use, and the
/// control-frame and outbound budgets are the server's (SPEC §10), so an upstream cannot make us spin or buffer
/// without bound either.
public struct HTTP2ClientConnection: HTTP2Endpoint, Sendable {
    /// Where the connection is in its life.
    enum Phase: Sendable, Equatable {
        /// Waiting for the server preface, which must start with SETTINGS (§3.4).
        case firstSettings
        /// Frames flow.
        case open
        /// GOAWAY sent after an error, or the caller closed it: nothing more is processed.
        case closed
    }

    /// The limits this connection advertises and enforces.
    public let limits: HTTP2Limits
    var phase = Phase.firstSettings
    private var inbound = HTTP2FrameInput()
    /// Bytes for the socket, oldest first.
    var outbound: [UInt8] = []
    var encoder = HPACKEncoder()
    var decoder: HPACKDecoder
    private var assembler = HeaderBlockAssembler()
    var streams = StreamTable<HTTP2ClientStream>()
    /// The id the next `openStream` uses; every odd id below it is ours, opened or closed (§5.1.1).
    var nextStreamID: UInt32 = 1
    /// The last-stream-id of the peer's latest GOAWAY: no new streams (§6.8).
    var goAwayReceived: UInt32?
    /// We sent GOAWAY: no new streams.
    var goAwaySent = false
    /// The server's SETTINGS.
    var peer = HTTP2PeerSettings()
    var connectionSendWindow = HTTP2Window.initial
    var connectionRecvWindow = HTTP2Window.initial
    var connectionRecvPending = 0
    /// The server acknowledged our SETTINGS, so our initial window applies to its sending (§6.5.3).
    var localSettingsAcked = false
    var controlBudget = RateWindow()
    /// Our PING in flight: its opaque data and when it was queued.
    var pingInFlight: (opaque: UInt64, sentAt: UInt64)?

    /// Creates a connection and queues the client preface.
    public init(limits: HTTP2Limits = HTTP2Limits()) {
        self.limits = limits
        self.decoder = HPACKDecoder(maxTableSize: limits.headerTableBytes, maxListSize: limits.maxHeaderBytes)
        outbound = HTTP2ServerConnection.preface
        // §8.4: we never accept pushes, so PUSH_PROMISE is a connection error.
        queueLocalSettings(first: (HTTP2Setting.enablePush, 0))
    }

    /// The connection receive window we keep topping up (as the server does: streams × window, at least 65,535).
    var connectionWindowTarget: Int { max(limits.connectionWindowBytes, HTTP2Window.initial) }

    /// Whether the connection is finished (error, or `goAway` with an error code): only draining remains.
    public var isClosed: Bool { phase == .closed }

    /// Streams open or half-closed (they count against MAX_CONCURRENT_STREAMS).
    public var activeStreamCount: Int { streams.count }

    /// How many streams may be open at once: our `maxConcurrentStreams`, lowered by the peer's
    /// SETTINGS_MAX_CONCURRENT_STREAMS once it arrives (§5.1.2: unlimited until then).
    public var streamLimit: Int { streamLimit(with: peer) }

    /// The stream limit under the peer's `settings`.
    func streamLimit(with settings: HTTP2PeerSettings) -> Int {
        min(limits.maxConcurrentStreams, settings.maxConcurrentStreams ?? .max)
    }

    /// Whether `openStream` would accept a stream now (ignoring the request's own validity).
    public var canOpenStream: Bool {
        !isClosed && goAwayReceived == nil && !goAwaySent && streams.count < streamLimit
            && nextStreamID <= limits.streamIDHighWater && outbound.count < limits.maxOutboundBytes
    }

    /// Whether the server's SETTINGS arrived (before that the peer's limits are the RFC defaults).
    public var peerSettingsReceived: Bool { phase != .firstSettings }

    /// Our stream ids still open or half-closed, ascending.
    public var openStreamIDs: [UInt32] { streams.ids.sorted() }

    // MARK: - Input

    /// Processes bytes read from the socket at monotonic instant `now` (nanoseconds), appending events.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, now: UInt64, into events: inout [HTTP2ClientEvent]) {
        guard !isClosed else { return }
        var input = inbound  // moved out, so `process` may mutate the connection
        inbound = HTTP2FrameInput()
        input.feed(bytes) { process($0, now: now, events: &events) }
        if !isClosed { inbound = input }
        if !isClosed && outbound.count > limits.maxOutboundBytes {
            fail(.enhanceYourCalm, .outboundOverflow, events: &events)
        }
    }

    /// Convenience for tests and simple callers: feeds `bytes` and returns the events.
    public mutating func feed(_ bytes: [UInt8], now: UInt64) -> [HTTP2ClientEvent] {
        var events: [HTTP2ClientEvent] = []
        bytes.withUnsafeBytes { feed($0, now: now, into: &events) }
        return events
    }

    /// Runs every complete frame in `buffer`; returns the octets used.
    private mutating func process(
        _ buffer: UnsafeRawBufferPointer, now: UInt64, events: inout [HTTP2ClientEvent]
    ) -> Int {
        runFrames(buffer, from: 0, now: now, events: &events)
    }

    /// RST_STREAM, PING, GOAWAY and PUSH_PROMISE as the client answers them.
    mutating func onRoleFrame(_ frame: HTTP2Frame, now: UInt64, events: inout [HTTP2ClientEvent]) {
        switch frame {
        case .rstStream(let streamID, let code):
            onRstStream(streamID, code, events: &events)
        case .ping(let ack, let opaque):
            onPing(ack: ack, opaque: opaque, now: now, events: &events)
        case .goAway(let lastStreamID, let code, _):
            onGoAway(lastStreamID, code, events: &events)
        case .pushPromise:
            fail(.protocolError, .pushPromise, events: &events)  // §6.6, §8.4: we sent SETTINGS_ENABLE_PUSH=0
        default:
            break
        }
    }

    // MARK: - What the shared frame code asks

    static var peerRole: HTTP2PeerSettings.Role { .client }
    var awaitingPeerSettings: Bool { phase == .firstSettings }
    mutating func peerSettingsArrived() { phase = .open }
    var blockInProgress: HeaderBlockAssembler.Pending? { assembler.pending }

    mutating func peerStreamError(
        _ streamID: UInt32, _ code: HTTP2ErrorCode, now: UInt64, events: inout [HTTP2ClientEvent]
    ) {
        resetStream(streamID, code, reason: nil, events: &events)
    }

    mutating func peerSettingsChanged(from old: HTTP2PeerSettings, events: inout [HTTP2ClientEvent]) {
        if streamLimit != streamLimit(with: old) { events.append(.streamLimitChanged(limit: streamLimit)) }
    }

    mutating func assemble(_ fragment: UnsafeRawBufferPointer, endHeaders: Bool) -> HeaderBlockAssembler.Outcome {
        assembler.add(fragment, endHeaders: endHeaders, decoder: &decoder, limit: limits.maxHeaderBytes)
    }

    /// A stream id we never opened: even (the server cannot open streams without push) or not yet used (§5.1).
    func isIdle(_ streamID: UInt32) -> Bool { streamID & 1 == 0 || streamID >= nextStreamID }

    // MARK: - Header blocks

    mutating func onHeaders(
        _ block: HeaderBlockAssembler.Pending, _ fragment: UnsafeRawBufferPointer, endHeaders: Bool, now: UInt64,
        events: inout [HTTP2ClientEvent]
    ) {
        var block = block
        let streamID = block.streamID
        // §5.1: HEADERS on a stream we never opened is a connection PROTOCOL_ERROR.
        guard !isIdle(streamID) else { return fail(.protocolError, .idleStream, events: &events) }
        if let stream = streams[streamID] {
            // After END_STREAM from the peer it is STREAM_CLOSED (§5.1), decided after decoding so the HPACK state
            // stays in step; after the final head the block is the trailer section (§8.1).
            block.purpose = stream.phase == .halfClosedRemote ? .reject(.streamClosed)
                : stream.responseStarted ? .trailers : .head
        } else {
            block.purpose = .discard  // a stream we reset or that ended: decoded only for HPACK
        }
        if fragment.isEmpty && !endHeaders && controlFrameSeen(now) {
            return fail(.enhanceYourCalm, .controlFrameFlood, events: &events)
        }
        assembler.begin(block, decoder: &decoder)
        addFragment(fragment, endHeaders: endHeaders, now: now, events: &events)
    }

    mutating func blockComplete(
        _ block: HeaderBlockAssembler.Pending, _ fields: HTTP2HeaderList, tooLarge: Bool, now: UInt64,
        events: inout [HTTP2ClientEvent]
    ) {
        let streamID = block.streamID
        switch block.purpose {
        case .discard:
            return
        case .reject(let code):
            resetStream(streamID, code, reason: nil, events: &events)
        case .head:
            guard !block.selfDependent else {  // §5.3.1
                return resetStream(streamID, .protocolError, reason: nil, events: &events)
            }
            // Too large is not the peer's protocol error (the setting is advisory, §6.5.2): we cancel the stream.
            if tooLarge { return resetStream(streamID, .cancel, reason: .headersTooLarge, events: &events) }
            switch ResponseValidator.response(fields) {
            case .failure(let malformation):
                resetStream(streamID, .protocolError, reason: malformation, events: &events)
            case .success(let head):
                responseHead(streamID, head, endStream: block.endStream, events: &events)
            }
        case .trailers:
            let problem: HTTP2Malformation? =
                !block.endStream ? .trailersWithoutEndStream
                : tooLarge ? .trailersTooLarge : HTTP2FieldValidator.trailers(fields) ?? bodyLengthProblem(streamID)
            if let problem { return resetStream(streamID, .protocolError, reason: problem, events: &events) }
            endRemote(streamID)
            events.append(.trailers(streamID: streamID, fields: fields))
        }
    }

    /// A valid response head: informational ones are skipped, a final one is delivered.
    private mutating func responseHead(
        _ streamID: UInt32, _ head: HTTP2ResponseHead, endStream: Bool, events: inout [HTTP2ClientEvent]
    ) {
        guard var stream = streams[streamID] else { return }
        if head.status < 200 {
            // §8.1: an informational head never ends the stream. 100 Continue needs nothing from us (we send the
            // body without waiting) and the gateway has nowhere to forward 103 Early Hints, so 1xx are skipped.
            if endStream { resetStream(streamID, .protocolError, reason: .informationalEndStream, events: &events) }
            return
        }
        // RFC 9110 §6.4.1, RFC 9113 §8.1.1: a response to HEAD, a 204 or a 304 has no content, whatever
        // `content-length` says; otherwise DATA must add up to it.
        let expected = stream.noContent || head.hasNoContent ? 0 : head.contentLength
        if endStream, let expected, expected != 0 {
            return resetStream(streamID, .protocolError, reason: .contentLengthMismatch, events: &events)
        }
        stream.responseStarted = true
        stream.expectedLength = expected
        streams[streamID] = stream
        if endStream { endRemote(streamID) }
        events.append(.response(streamID: streamID, head: head, endStream: endStream))
    }

    /// At END_STREAM: the DATA total must equal the expected length when there is one (§8.1.1).
    func bodyLengthProblem(_ streamID: UInt32) -> HTTP2Malformation? {
        guard let stream = streams[streamID], let length = stream.expectedLength else { return nil }
        return stream.received == length ? nil : .contentLengthMismatch
    }

    // MARK: - Errors and stream ends

    /// Ends the connection: GOAWAY with `code` (§5.4.1), nothing processed after it. Our last-stream-id is 0: the
    /// server can open no streams toward us.
    mutating func fail(_ code: HTTP2ErrorCode, _ reason: HTTP2ConnectionFailure, events: inout [HTTP2ClientEvent]) {
        guard !isClosed else { return }
        HTTP2FrameWriter.goAway(lastStreamID: 0, code: code, into: &outbound)
        phase = .closed
        goAwaySent = true
        streams.removeAll()
        inbound = HTTP2FrameInput()
        events.append(.connectionError(code: code, reason: reason))
    }

    /// Resets a stream because the peer broke a stream-level rule (§5.4.2), and tells the caller.
    mutating func resetStream(
        _ streamID: UInt32, _ code: HTTP2ErrorCode, reason: HTTP2Malformation?, events: inout [HTTP2ClientEvent]
    ) {
        HTTP2FrameWriter.rstStream(streamID: streamID, code: code, into: &outbound)
        guard streams.removeValue(forKey: streamID) != nil else { return }
        events.append(.streamFailed(streamID: streamID, code: code, reason: reason))
    }

    /// The server sent END_STREAM.
    mutating func endRemote(_ streamID: UInt32) {
        guard let stream = streams[streamID] else { return }
        if stream.phase == .halfClosedLocal {
            streams[streamID] = nil
        } else {
            updateStream(streamID) { $0.phase = .halfClosedRemote }
        }
    }

    /// We sent END_STREAM.
    mutating func endLocal(_ streamID: UInt32) {
        guard let stream = streams[streamID] else { return }
        if stream.phase == .halfClosedRemote {
            streams[streamID] = nil
        } else {
            updateStream(streamID) { $0.phase = .halfClosedLocal }
        }
    }
}
