/// The caller's side: requests, bodies, resets, GOAWAY, PING and the outbound buffer.
extension HTTP2ClientConnection {
    /// The client connection preface (RFC 9113 §3.4); `init` queues it.
    public static var preface: [UInt8] { HTTP2ServerConnection.preface }

    /// Opens the next stream (odd ids, increasing, §5.1.1) and queues its request head: `head` holds the
    /// pseudo-headers first (`:method`, `:scheme`, `:authority`, `:path`; §8.3.1) then regular fields, lowercase and
    /// without connection-specific fields (§8.2.2) — the caller strips those; the head is validated and never
    /// sent malformed. `endStream` for a request without body. Returns the stream id.
    ///
    /// Throws without sending anything when the connection cannot take the stream (see `HTTP2OpenStreamError`):
    /// `.concurrencyLimit` means queue or use another connection; `.goingAway` and `.streamIDsExhausted` mean this
    /// connection takes no new streams.
    public mutating func openStream(head: HTTP2HeaderList, endStream: Bool) throws(HTTP2OpenStreamError) -> UInt32 {
        guard !isClosed else { throw .connectionClosed }
        guard goAwayReceived == nil && !goAwaySent else { throw .goingAway }
        guard streams.count < streamLimit else { throw .concurrencyLimit }
        guard nextStreamID <= limits.streamIDHighWater else { throw .streamIDsExhausted }
        guard outbound.count < limits.maxOutboundBytes else { throw .outboundFull }
        let request: HTTP2RequestHead
        switch RequestValidator.request(head) {
        case .failure(let malformation): throw .invalidRequest(malformation)
        case .success(let valid): request = valid
        }
        if let peerLimit = peer.maxHeaderListSize, head.decodedSize > peerLimit { throw .headerListTooLarge }
        let streamID = nextStreamID
        nextStreamID += 2
        let recvWindow = localSettingsAcked ? limits.initialWindowBytes : HTTP2Window.initial
        streams[streamID] = HTTP2ClientStream(
            sendWindow: peer.initialWindow, recvWindow: recvWindow,
            noContent: request.method.elementsEqual("HEAD".utf8))
        writeBlock(streamID, head, endStream: endStream)
        if endStream { endLocal(streamID) }
        return streamID
    }

    /// Queues as much of `bytes` as the flow-control windows and the outbound budget allow, in frames of at most
    /// the peer's SETTINGS_MAX_FRAME_SIZE; returns how many octets were taken. Keep the rest and retry after a
    /// `.windowOpened` event or after draining output. END_STREAM is sent only when all of `bytes` was taken
    /// (an empty `bytes` with `endStream` always goes: it needs no window).
    public mutating func writeData(
        streamID: UInt32, _ bytes: UnsafeRawBufferPointer, endStream: Bool
    ) throws(HTTP2WriteError) -> Int {
        let stream = try writableStream(streamID)
        return queueData(streamID, sendWindow: stream.sendWindow, bytes, endStream: endStream)
    }

    /// `writeData` for an array.
    public mutating func writeData(streamID: UInt32, _ bytes: [UInt8], endStream: Bool) throws(HTTP2WriteError)
        -> Int
    {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(HTTP2WriteError) -> Int in try writeData(streamID: streamID, raw, endStream: endStream) }
        }
        return try result.get()
    }

    /// Queues the request's trailer section, which ends the request (§8.1): lowercase names, no pseudo-headers,
    /// nothing connection-specific (checked: `.invalidTrailers`, nothing sent).
    public mutating func writeTrailers(streamID: UInt32, _ trailers: HTTP2HeaderList) throws(HTTP2WriteError) {
        _ = try writableStream(streamID)
        if let malformation = HTTP2FieldValidator.trailers(trailers) { throw .invalidTrailers(malformation) }
        writeBlock(streamID, trailers, endStream: true)
        endLocal(streamID)
    }

    /// How many octets `writeData` would take now on `streamID` (the smaller of the two windows), nil for a stream
    /// that cannot be written.
    public func sendWindow(streamID: UInt32) -> Int? {
        guard let stream = streams[streamID], stream.phase != .halfClosedLocal else { return nil }
        return max(0, min(connectionSendWindow, stream.sendWindow))
    }

    /// Resets a stream on the caller's behalf (downstream gone, timeout: usually CANCEL). A stream that is already
    /// gone is left alone; frames still in flight for it are dropped (their window is given back).
    public mutating func resetStream(streamID: UInt32, code: HTTP2ErrorCode = .cancel) {
        guard !isClosed, streams.removeValue(forKey: streamID) != nil else { return }
        HTTP2FrameWriter.rstStream(streamID: streamID, code: code, into: &outbound)
    }

    /// Sends GOAWAY (§6.8; last-stream-id 0: the server cannot open streams toward us). With NO_ERROR streams
    /// already open finish and `openStream` refuses new ones; close when `activeStreamCount` is 0. Any other code
    /// ends the connection now. Only the first GOAWAY is sent.
    public mutating func goAway(code: HTTP2ErrorCode = .noError, debug: [UInt8] = []) {
        guard !isClosed else { return }
        if !goAwaySent { HTTP2FrameWriter.goAway(lastStreamID: 0, code: code, debug: debug, into: &outbound) }
        goAwaySent = true
        if code != .noError {
            phase = .closed
            streams.removeAll()
        }
    }

    /// Queues a PING for liveness (§6.7); its ACK produces `.pingAcknowledged` with the round trip. Returns false,
    /// sending nothing, while a previous PING is unanswered or the connection is closed.
    public mutating func sendPing(now: UInt64) -> Bool {
        guard !isClosed, pingInFlight == nil else { return false }
        pingInFlight = (opaque: now, sentAt: now)
        HTTP2FrameWriter.ping(opaque: now, ack: false, into: &outbound)
        return true
    }

    /// Whether our PING is still unanswered (a caller's liveness timer reads it).
    public var pingOutstanding: Bool { pingInFlight != nil }

    // MARK: - Outbound buffer

    /// Octets waiting for the socket.
    public var outboundCount: Int { outbound.count }

    /// Calls `body` with the queued output; `body` returns how many octets it wrote, which are then dropped.
    public mutating func drainOutbound(_ body: (UnsafeRawBufferPointer) -> Int) { drainQueued(body) }

    /// Takes all queued output (tests and simple callers).
    public mutating func takeOutbound() -> [UInt8] { takeQueued() }

    // MARK: - Helpers

    private mutating func writeBlock(_ streamID: UInt32, _ fields: HTTP2HeaderList, endStream: Bool) {
        var block: [UInt8] = []
        encoder.encode(fields, into: &block)
        block.withUnsafeBytes {
            HTTP2FrameWriter.headerBlock(
                streamID: streamID, block: $0, endStream: endStream, maxFrameSize: peer.maxFrameSize, into: &outbound)
        }
    }
}
