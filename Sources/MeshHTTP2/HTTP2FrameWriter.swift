/// Appends frames to an outbound byte buffer (RFC 9113 §6). No padding is ever sent and no priority fields: the
/// writer only produces what our two connection types need. Callers keep each payload within the peer's SETTINGS_MAX_FRAME_SIZE.
public enum HTTP2FrameWriter {
    /// DATA with `payload`.
    public static func data(
        streamID: UInt32, payload: UnsafeRawBufferPointer, endStream: Bool, into out: inout [UInt8]
    ) {
        let flags = endStream ? HTTP2FrameFlags.endStream : 0
        HTTP2FrameHeader(length: payload.count, type: HTTP2FrameType.data, flags: flags, streamID: streamID)
            .write(into: &out)
        out.append(contentsOf: payload)
    }

    /// All of `bytes` as DATA frames of at most `maxFrameSize` octets; END_STREAM on the last one (an empty `bytes`
    /// with `endStream` is one empty DATA frame; an empty one without it writes nothing). Flow control is the
    /// caller's: `bytes` is what the windows allow.
    public static func data(
        streamID: UInt32, bytes: UnsafeRawBufferPointer, endStream: Bool, maxFrameSize: Int, into out: inout [UInt8]
    ) {
        var offset = 0
        repeat {
            let end = min(offset + maxFrameSize, bytes.count)
            guard end > offset || endStream else { break }
            let piece = UnsafeRawBufferPointer(rebasing: bytes[offset..<end])
            data(streamID: streamID, payload: piece, endStream: endStream && end == bytes.count, into: &out)
            offset = end
        } while offset < bytes.count
    }

    /// A field block as HEADERS followed by as many CONTINUATION frames as `maxFrameSize` needs (§4.3: the frames
    /// are contiguous, nothing may be interleaved, which holds because they are appended in one call).
    public static func headerBlock(
        streamID: UInt32, block: UnsafeRawBufferPointer, endStream: Bool, maxFrameSize: Int, into out: inout [UInt8]
    ) {
        var start = 0
        var type = HTTP2FrameType.headers
        repeat {
            let end = min(start + maxFrameSize, block.count)
            var flags: UInt8 = end == block.count ? HTTP2FrameFlags.endHeaders : 0
            if endStream && type == HTTP2FrameType.headers { flags |= HTTP2FrameFlags.endStream }
            HTTP2FrameHeader(length: end - start, type: type, flags: flags, streamID: streamID).write(into: &out)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: block[start..<end]))
            start = end
            type = HTTP2FrameType.continuation
        } while start < block.count
    }

    /// RST_STREAM with `code`.
    public static func rstStream(streamID: UInt32, code: HTTP2ErrorCode, into out: inout [UInt8]) {
        HTTP2FrameHeader(length: 4, type: HTTP2FrameType.rstStream, flags: 0, streamID: streamID).write(into: &out)
        appendUInt32(code.rawValue, to: &out)
    }

    /// SETTINGS with the given (identifier, value) pairs, or an empty ACK.
    public static func settings(_ entries: [(UInt16, UInt32)], ack: Bool = false, into out: inout [UInt8]) {
        let flags = ack ? HTTP2FrameFlags.ack : 0
        HTTP2FrameHeader(length: 6 * entries.count, type: HTTP2FrameType.settings, flags: flags, streamID: 0)
            .write(into: &out)
        for (identifier, value) in entries {
            out.append(UInt8(truncatingIfNeeded: identifier >> 8))
            out.append(UInt8(truncatingIfNeeded: identifier))
            appendUInt32(value, to: &out)
        }
    }

    /// PING with `opaque`; `ack` for the answer to a peer's PING (§6.7: same opaque data).
    public static func ping(opaque: UInt64, ack: Bool, into out: inout [UInt8]) {
        let flags = ack ? HTTP2FrameFlags.ack : 0
        HTTP2FrameHeader(length: 8, type: HTTP2FrameType.ping, flags: flags, streamID: 0).write(into: &out)
        appendUInt32(UInt32(truncatingIfNeeded: opaque >> 32), to: &out)
        appendUInt32(UInt32(truncatingIfNeeded: opaque), to: &out)
    }

    /// GOAWAY with the last stream id we processed, `code` and optional debug bytes.
    public static func goAway(
        lastStreamID: UInt32, code: HTTP2ErrorCode, debug: some Collection<UInt8> = [], into out: inout [UInt8]
    ) {
        HTTP2FrameHeader(length: 8 + debug.count, type: HTTP2FrameType.goAway, flags: 0, streamID: 0)
            .write(into: &out)
        appendUInt32(lastStreamID & 0x7FFF_FFFF, to: &out)
        appendUInt32(code.rawValue, to: &out)
        out.append(contentsOf: debug)
    }

    /// WINDOW_UPDATE granting `increment` (1...2^31−1) on a stream, or on the connection for stream 0.
    public static func windowUpdate(streamID: UInt32, increment: UInt32, into out: inout [UInt8]) {
        HTTP2FrameHeader(length: 4, type: HTTP2FrameType.windowUpdate, flags: 0, streamID: streamID)
            .write(into: &out)
        appendUInt32(increment & 0x7FFF_FFFF, to: &out)
    }
}
