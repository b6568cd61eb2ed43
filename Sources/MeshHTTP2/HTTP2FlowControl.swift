/// Flow-control arithmetic shared by both ends of a connection (RFC 9113 §5.2, §6.9).
enum HTTP2FlowControl {
    /// Gives `bytes` of receive window back to the peer, batched: they are added to `pending`, and once `pending`
    /// reaches `threshold` one WINDOW_UPDATE for `streamID` (0 = the connection) returns all of it, capped so the
    /// window never passes 2^31−1 (§6.9.1). Batching keeps a stream of small reads from costing a frame per read.
    static func credit(
        _ bytes: Int, streamID: UInt32, window: inout Int, pending: inout Int, threshold: Int, into out: inout [UInt8]
    ) {
        guard bytes > 0 else { return }
        pending += bytes
        guard pending >= max(threshold, 1) else { return }
        let increment = min(pending, HTTP2Window.max - window)
        if increment > 0 {
            HTTP2FrameWriter.windowUpdate(streamID: streamID, increment: UInt32(increment), into: &out)
            window += increment
        }
        pending = 0
    }

    /// Applies a WINDOW_UPDATE increment to a send window; the error code when it is 0 (§6.9: PROTOCOL_ERROR) or
    /// would push the window past 2^31−1 (§6.9.1: FLOW_CONTROL_ERROR). The caller decides whether that is a
    /// connection or a stream error.
    static func grow(_ window: inout Int, by increment: UInt32) -> HTTP2ErrorCode? {
        guard increment > 0 else { return .protocolError }
        guard window + Int(increment) <= HTTP2Window.max else { return .flowControlError }
        window += Int(increment)
        return nil
    }
}

/// The bytes fed to a connection that did not yet make a whole frame. The common case, whole frames in the caller's
/// buffer, is processed straight from it; only a partial tail (at most one frame) is copied and kept.
struct HTTP2FrameInput: Sendable {
    private var partial: [UInt8] = []

    /// Runs `process` over the unparsed bytes (the kept tail, then `bytes`); `process` returns how many octets it
    /// used, and the rest is kept for the next call. Move the input out of the connection before calling, so
    /// `process` may mutate the connection.
    mutating func feed(_ bytes: UnsafeRawBufferPointer, _ process: (UnsafeRawBufferPointer) -> Int) {
        if partial.isEmpty {
            let used = process(bytes)
            if used < bytes.count { partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[used...])) }
        } else {
            partial.append(contentsOf: bytes)
            let used = partial.withUnsafeBytes { process($0) }
            partial.removeSubrange(0..<used)
        }
    }
}
