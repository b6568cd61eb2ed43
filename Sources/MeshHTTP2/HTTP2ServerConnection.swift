/// The server side of one HTTP/2 connection (RFC 9113), sans-IO: the caller feeds the bytes it read with the
/// current monotonic time, gets events back, writes responses through the `write…` functions, and drains the
/// outbound buffer to the socket. Nothing here reads a clock or touches a file descriptor.
///
/// One connection per socket, used by one thread. The server preface (our SETTINGS, and a connection
/// WINDOW_UPDATE raising the receive window to streams × window, SPEC §10) is queued at creation: drain it first.
/// After a `.connectionError` event everything is ignored; flush the output (it ends with GOAWAY) and close.
public struct HTTP2ServerConnection: HTTP2Endpoint, Sendable {
    /// The client connection preface (RFC 9113 §3.4).
    public static let preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// Where the connection is in its life.
    enum Phase: Sendable, Equatable {
        /// Matching the client preface; the payload is how many octets matched so far.
        case preface(Int)
        /// Preface done, the client's SETTINGS must come next.
        case firstSettings
        /// Frames flow.
        case open
        /// GOAWAY sent after an error, or the caller closed it: nothing more is processed.
        case closed
    }

    /// The limits this connection advertises and enforces.
    public let limits: HTTP2Limits
    var phase = Phase.preface(0)
    /// A partial frame left over from the previous `feed` (at most one frame).
    private var inbound = HTTP2FrameInput()
    /// Bytes for the socket, oldest first.
    var outbound: [UInt8] = []
    var encoder = HPACKEncoder()
    /// Where header blocks are encoded before framing (kept between heads).
    var blockScratch: [UInt8] = []
    var decoder: HPACKDecoder
    private var assembler = HeaderBlockAssembler()
    var streams = StreamTable<HTTP2Stream>()
    /// The highest client stream id seen (opened, refused or ignored); lower unknown ids are closed streams.
    var highestStreamID: UInt32 = 0
    /// We sent GOAWAY: new streams are ignored (§6.8).
    var goAwaySent = false
    /// Recently closed streams and who closed them (what a late frame for one means).
    var closed: ClosedStreams
    /// The client's SETTINGS: new streams' send window, the largest frame we send.
    var peer = HTTP2PeerSettings()
    var connectionSendWindow = HTTP2Window.initial
    var connectionRecvWindow = HTTP2Window.initial
    var connectionRecvPending = 0
    /// The client acknowledged our SETTINGS, so our initial window applies to its streams (§6.5.3).
    var localSettingsAcked = false
    private var resetBudget = RateWindow()
    var controlBudget = RateWindow()

    /// Creates a connection and queues the server preface.
    public init(limits: HTTP2Limits = HTTP2Limits()) {
        self.limits = limits
        self.decoder = HPACKDecoder(maxTableSize: limits.headerTableBytes, maxListSize: limits.maxHeaderBytes)
        closed = ClosedStreams(capacity: 2 * limits.maxConcurrentStreams)
        queueLocalSettings(first: (HTTP2Setting.maxConcurrentStreams, UInt32(limits.maxConcurrentStreams)))
    }

    /// The connection receive window we keep topping up: SPEC §10's streams × window, never below the RFC's
    /// initial 65,535 (a window cannot be shrunk without SETTINGS, and there is no SETTINGS for the connection's).
    var connectionWindowTarget: Int { max(limits.connectionWindowBytes, HTTP2Window.initial) }

    /// Whether the connection is finished (error or `goAway` with an error code): only draining remains.
    public var isClosed: Bool { phase == .closed }

    /// Streams open or half-closed (they count against MAX_CONCURRENT_STREAMS).
    public var activeStreamCount: Int { streams.count }

    // MARK: - Input

    /// Processes bytes read from the socket at monotonic instant `now` (nanoseconds), appending events.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, now: UInt64, into events: inout [HTTP2Event]) {
        guard !isClosed else { return }
        var input = inbound  // moved out, so `process` may mutate the connection
        inbound = HTTP2FrameInput()
        input.feed(bytes) { process($0, now: now, events: &events) }
        if !isClosed { inbound = input }  // once closed nothing more is parsed: the partial frame is dropped
        if !isClosed && outbound.count > limits.maxOutboundBytes {
            fail(.enhanceYourCalm, .outboundOverflow, events: &events)
        }
    }

    /// Convenience for tests and simple callers: feeds `bytes` and returns the events.
    public mutating func feed(_ bytes: [UInt8], now: UInt64) -> [HTTP2Event] {
        var events: [HTTP2Event] = []
        bytes.withUnsafeBytes { feed($0, now: now, into: &events) }
        return events
    }

    /// Runs the preface check and every complete frame in `buffer`; returns the octets used.
    private mutating func process(_ buffer: UnsafeRawBufferPointer, now: UInt64, events: inout [HTTP2Event]) -> Int {
        var offset = 0
        if case .preface(let matched) = phase {
            let n = min(Self.preface.count - matched, buffer.count)
            for k in 0..<n where buffer[k] != Self.preface[matched + k] {
                fail(.protocolError, .badPreface, events: &events)
                return 0
            }
            offset = n
            guard matched + n == Self.preface.count else {
                phase = .preface(matched + n)
                return offset
            }
            phase = .firstSettings
        }
        return runFrames(buffer, from: offset, now: now, events: &events)
    }

    /// RST_STREAM, PING, GOAWAY and PUSH_PROMISE as the server answers them.
    mutating func onRoleFrame(_ frame: HTTP2Frame, now: UInt64, events: inout [HTTP2Event]) {
        switch frame {
        case .rstStream(let streamID, let code):
            onRstStream(streamID, code, now: now, events: &events)
        case .ping(let ack, let opaque):
            if controlFrameSeen(now) { return fail(.enhanceYourCalm, .controlFrameFlood, events: &events) }
            if !ack { HTTP2FrameWriter.ping(opaque: opaque, ack: true, into: &outbound) }
        case .goAway(let lastStreamID, let code, _):
            events.append(.goAway(lastStreamID: lastStreamID, code: code))
        case .pushPromise:
            fail(.protocolError, .pushPromise, events: &events)  // §8.4: clients cannot push
        default:
            break
        }
    }

    // MARK: - What the shared frame code asks

    static var peerRole: HTTP2PeerSettings.Role { .server }
    var awaitingPeerSettings: Bool { phase == .firstSettings }
    mutating func peerSettingsArrived() { phase = .open }
    var blockInProgress: HeaderBlockAssembler.Pending? { assembler.pending }

    /// A request head's fields the caller is done with: the next header block is decoded into their storage
    /// (a list per block cost two allocations per request).
    public mutating func recycle(_ fields: HTTP2HeaderList) { assembler.recycle(fields) }
    /// Client streams above the highest id seen were never opened.
    func isIdle(_ streamID: UInt32) -> Bool { streamID > highestStreamID }

    mutating func peerStreamError(_ streamID: UInt32, _ code: HTTP2ErrorCode, now: UInt64, events: inout [HTTP2Event]) {
        resetStream(streamID, code, reason: nil, peerFault: true, now: now, events: &events)
    }

    mutating func peerSettingsChanged(from old: HTTP2PeerSettings, events: inout [HTTP2Event]) {}

    mutating func assemble(_ fragment: UnsafeRawBufferPointer, endHeaders: Bool) -> HeaderBlockAssembler.Outcome {
        assembler.add(fragment, endHeaders: endHeaders, decoder: &decoder, limit: limits.maxHeaderBytes)
    }

    /// Counts a stream reset before its response started; ends the connection past the rapid-reset budget.
    mutating func countReset(now: UInt64, events: inout [HTTP2Event]) {
        if resetBudget.record(now: now, limit: limits.maxConcurrentStreams) {
            fail(.enhanceYourCalm, .rapidReset, events: &events)
        }
    }

    // MARK: - Header blocks

    mutating func onHeaders(
        _ block: HeaderBlockAssembler.Pending, _ fragment: UnsafeRawBufferPointer, endHeaders: Bool, now: UInt64,
        events: inout [HTTP2Event]
    ) {
        var block = block
        let streamID = block.streamID
        if let stream = streams[streamID] {
            // §8.1: a second HEADERS is the trailer section; on a half-closed (remote) stream it is STREAM_CLOSED
            // (§5.1), decided after decoding so the HPACK state stays in step.
            block.purpose = stream.phase == .halfClosedRemote ? .reject(.streamClosed) : .trailers
        } else if streamID <= highestStreamID {
            // §5.1.1: an id below the highest that was never opened is a new stream out of order.
            if streamID > closed.forgottenUpTo && closed.closer(of: streamID) == nil {
                return fail(.protocolError, .invalidStreamID, events: &events)
            }
            block.purpose = .discard  // a closed stream: trailers in flight after a reset, or junk
        } else {
            // §5.1.1: client streams are odd and increasing.
            guard streamID & 1 == 1 else { return fail(.protocolError, .invalidStreamID, events: &events) }
            highestStreamID = streamID
            block.purpose = openStream(streamID, now: now, events: &events)
            if isClosed { return }
        }
        if fragment.isEmpty && !endHeaders && controlFrameSeen(now) {
            return fail(.enhanceYourCalm, .controlFrameFlood, events: &events)
        }
        assembler.begin(block, decoder: &decoder)
        addFragment(fragment, endHeaders: endHeaders, now: now, events: &events)
    }

    /// A HEADERS frame with a new stream id: open the stream, or refuse or ignore it.
    private mutating func openStream(_ streamID: UInt32, now: UInt64, events: inout [HTTP2Event])
        -> HeaderBlockAssembler.Purpose
    {
        if goAwaySent {  // §6.8: streams above our GOAWAY's last id are ignored
            closed.record(streamID, by: .server)
            return .discard
        }
        guard streams.count < limits.maxConcurrentStreams else {
            // §5.1.2: over the advertised limit; REFUSED_STREAM tells the client it is safe to retry.
            HTTP2FrameWriter.rstStream(streamID: streamID, code: .refusedStream, into: &outbound)
            closed.record(streamID, by: .server)
            countReset(now: now, events: &events)
            return .discard
        }
        let recvWindow = localSettingsAcked ? limits.initialWindowBytes : HTTP2Window.initial
        streams[streamID] = HTTP2Stream(sendWindow: peer.initialWindow, recvWindow: recvWindow)
        if streamID >= limits.streamIDHighWater {
            // Stream-id exhaustion: wind down while the client still has ids left to finish in.
            goAway(code: .noError)
        }
        return .head
    }

    mutating func blockComplete(
        _ block: HeaderBlockAssembler.Pending, _ fields: HTTP2HeaderList, tooLarge: Bool, now: UInt64,
        events: inout [HTTP2Event]
    ) {
        let streamID = block.streamID
        switch block.purpose {
        case .discard:
            return
        case .reject(let code):
            resetStream(streamID, code, reason: nil, peerFault: true, now: now, events: &events)
        case .head:
            guard !block.selfDependent else {  // §5.3.1
                return resetStream(streamID, .protocolError, reason: nil, peerFault: true, now: now, events: &events)
            }
            if tooLarge {
                updateStream(streamID) {
                    $0.delivered = true
                    $0.discardBody = true
                }
                if block.endStream { endRemote(streamID) }
                events.append(.headersTooLarge(streamID: streamID))
                return
            }
            switch RequestValidator.request(fields) {
            case .failure(let malformation):
                malformed(streamID, malformation, now: now, events: &events)
            case .success(let head):
                if block.endStream, let length = head.contentLength, length != 0 {
                    return malformed(streamID, .contentLengthMismatch, now: now, events: &events)
                }
                updateStream(streamID) {
                    $0.delivered = true
                    $0.contentLength = head.contentLength
                }
                if block.endStream { endRemote(streamID) }
                events.append(.request(streamID: streamID, head: head, endStream: block.endStream))
            }
        case .trailers:
            let problem: HTTP2Malformation? =
                !block.endStream ? .trailersWithoutEndStream
                : tooLarge ? .trailersTooLarge : HTTP2FieldValidator.trailers(fields) ?? bodyLengthProblem(streamID)
            if let problem { return malformed(streamID, problem, now: now, events: &events) }
            endRemote(streamID)
            events.append(.trailers(streamID: streamID, fields: fields))
        }
    }

    private mutating func malformed(
        _ streamID: UInt32, _ malformation: HTTP2Malformation, now: UInt64, events: inout [HTTP2Event]
    ) {
        if streams[streamID]?.delivered == false {
            events.append(.malformedRequest(streamID: streamID, malformation))
        }
        resetStream(streamID, .protocolError, reason: malformation, peerFault: true, now: now, events: &events)
    }

    /// At END_STREAM: the DATA total must equal `content-length` when there is one (§8.1.1).
    func bodyLengthProblem(_ streamID: UInt32) -> HTTP2Malformation? {
        guard let stream = streams[streamID], let length = stream.contentLength else { return nil }
        return stream.received == length ? nil : .contentLengthMismatch
    }

    // MARK: - Errors and stream ends

    /// Ends the connection: GOAWAY with `code` (§5.4.1), nothing processed after it.
    mutating func fail(_ code: HTTP2ErrorCode, _ reason: HTTP2ConnectionFailure, events: inout [HTTP2Event]) {
        guard !isClosed else { return }
        HTTP2FrameWriter.goAway(lastStreamID: highestStreamID, code: code, into: &outbound)
        phase = .closed
        goAwaySent = true
        streams.removeAll()
        inbound = HTTP2FrameInput()
        events.append(.connectionError(code: code, reason: reason))
    }

    /// Resets a stream because of the peer (§5.4.2) or on the caller's request; tells the caller if it knew it.
    mutating func resetStream(
        _ streamID: UInt32, _ code: HTTP2ErrorCode, reason: HTTP2Malformation?, peerFault: Bool, now: UInt64,
        events: inout [HTTP2Event]
    ) {
        HTTP2FrameWriter.rstStream(streamID: streamID, code: code, into: &outbound)
        closed.record(streamID, by: .server)
        guard let stream = streams.removeValue(forKey: streamID) else { return }
        if stream.delivered && peerFault { events.append(.streamFailed(streamID: streamID, code: code, reason: reason)) }
        if peerFault && !stream.responseStarted { countReset(now: now, events: &events) }
    }

    /// The client sent END_STREAM.
    mutating func endRemote(_ streamID: UInt32) {
        guard let stream = streams[streamID] else { return }
        if stream.phase == .halfClosedLocal {
            streams[streamID] = nil
            closed.record(streamID, by: .client)
        } else {
            updateStream(streamID) { $0.phase = .halfClosedRemote }
        }
    }

    /// We sent END_STREAM.
    mutating func endLocal(_ streamID: UInt32) {
        guard let stream = streams[streamID] else { return }
        if stream.phase == .halfClosedRemote {
            streams[streamID] = nil
            closed.record(streamID, by: .client)
        } else {
            updateStream(streamID) { $0.phase = .halfClosedLocal }
        }
    }
}
