/// Why a write was refused. Each is a caller-side condition, never a peer error: the stream may have been reset
/// by the peer or the connection ended between the event and the write.
public enum HTTP2WriteError: Error, Sendable, Equatable {
    /// The connection is closed.
    case connectionClosed
    /// No such open stream (never opened, or already closed or reset).
    case unknownStream
    /// We already sent END_STREAM on it.
    case alreadyEnded
    /// DATA or trailers before the response head.
    case responseNotStarted
    /// A second response head (use `writeTrailers`).
    case responseAlreadyStarted
    /// Trailers that break RFC 9113 §8.1 or §8.2 (pseudo-headers, uppercase or connection-specific names): nothing
    /// was sent. (`HTTP2ClientConnection.writeTrailers` checks; the server's caller strips them beforehand.)
    case invalidTrailers(HTTP2Malformation)
}

/// The caller's side: responses, resets, GOAWAY, and the outbound buffer.
extension HTTP2ServerConnection {
    /// Queues the response head: `:status` then `headers` (lowercase names, no connection-specific fields — the
    /// caller strips those, RFC 9113 §8.2.2), split into HEADERS and CONTINUATION frames as the peer's
    /// SETTINGS_MAX_FRAME_SIZE needs. `endStream` for a response without body.
    public mutating func writeResponseHead(
        streamID: UInt32, status: Int, headers: HTTP2HeaderList, endStream: Bool
    ) throws(HTTP2WriteError) {
        let stream = try writableStream(streamID)
        guard !stream.responseStarted else { throw .responseAlreadyStarted }
        writeBlock(streamID, headers, status: status, endStream: endStream)
        updateStream(streamID) { $0.responseStarted = true }
        if endStream { endLocal(streamID) }
    }

    /// Queues the trailer section, which ends the response (§8.1).
    public mutating func writeTrailers(streamID: UInt32, _ trailers: HTTP2HeaderList) throws(HTTP2WriteError) {
        let stream = try writableStream(streamID)
        guard stream.responseStarted else { throw .responseNotStarted }
        writeBlock(streamID, trailers, status: nil, endStream: true)
        endLocal(streamID)
    }

    /// Queues as much of `bytes` as the flow-control windows and the outbound budget allow, in frames of at most
    /// the peer's SETTINGS_MAX_FRAME_SIZE; returns how many octets were taken. Keep the rest and retry after a
    /// `.windowOpened` event or after draining output. END_STREAM is sent only when all of `bytes` was taken
    /// (an empty `bytes` with `endStream` always goes: it needs no window).
    public mutating func writeData(
        streamID: UInt32, _ bytes: UnsafeRawBufferPointer, endStream: Bool
    ) throws(HTTP2WriteError) -> Int {
        let stream = try writableStream(streamID)
        guard stream.responseStarted else { throw .responseNotStarted }
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

    /// How many octets `writeData` would take now on `streamID` (the smaller of the two windows), nil for a stream
    /// that cannot be written.
    public func sendWindow(streamID: UInt32) -> Int? {
        guard let stream = streams[streamID], stream.phase != .halfClosedLocal else { return nil }
        return max(0, min(connectionSendWindow, stream.sendWindow))
    }

    /// Resets a stream on the caller's behalf (upstream failure, timeout: usually CANCEL or INTERNAL_ERROR). Not
    /// counted against the peer's rapid-reset budget; a stream that is already gone is left alone.
    public mutating func resetStream(streamID: UInt32, code: HTTP2ErrorCode) {
        guard !isClosed, streams[streamID] != nil else { return }
        var ignored: [HTTP2Event] = []
        resetStream(streamID, code, reason: nil, peerFault: false, now: 0, events: &ignored)
    }

    /// Sends GOAWAY with the highest stream id processed so far (§6.8). With NO_ERROR this is the graceful
    /// shutdown: streams already open finish, new ones are ignored; close when `activeStreamCount` is 0. Any other
    /// code ends the connection now. Only the first GOAWAY is sent.
    public mutating func goAway(code: HTTP2ErrorCode = .noError, debug: [UInt8] = []) {
        guard !isClosed else { return }
        if !goAwaySent { HTTP2FrameWriter.goAway(lastStreamID: highestStreamID, code: code, debug: debug, into: &outbound) }
        goAwaySent = true
        if code != .noError {
            phase = .closed
            streams.removeAll()
        }
    }

    // MARK: - Outbound buffer

    /// Octets waiting for the socket.
    public var outboundCount: Int { outbound.count }

    /// Calls `body` with the queued output; `body` returns how many octets it wrote, which are then dropped.
    public mutating func drainOutbound(_ body: (UnsafeRawBufferPointer) -> Int) { drainQueued(body) }

    /// Takes all queued output (tests and simple callers).
    public mutating func takeOutbound() -> [UInt8] { takeQueued() }

    // MARK: - Helpers

    private mutating func writeBlock(_ streamID: UInt32, _ fields: HTTP2HeaderList, status: Int?, endStream: Bool) {
        // The block is encoded into storage the connection keeps (allocated when a head needs more, not per head).
        let bound = HPACKEncoder.bound(fields)
        if blockScratch.count < bound {
            blockScratch = [UInt8](repeating: 0, count: max(bound, 2 * blockScratch.count))
        }
        blockScratch.withUnsafeMutableBytes { scratch in
            let length = encoder.encode(fields, status: status, into: scratch)
            HTTP2FrameWriter.headerBlock(
                streamID: streamID, block: UnsafeRawBufferPointer(rebasing: scratch[..<length]), endStream: endStream,
                maxFrameSize: peer.maxFrameSize, into: &outbound)
        }
    }
}
