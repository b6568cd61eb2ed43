/// One parsed frame. Payload parts are ranges into the buffer given to `HTTP2FrameParser.parse` (borrowed, nothing
/// copied); they are valid only as long as that buffer is. Padding is already removed.
public enum HTTP2Frame: Sendable, Equatable {
    /// DATA (§6.1). `flowLength` is the whole payload length, padding included: what flow control counts.
    case data(streamID: UInt32, payload: Range<Int>, flowLength: Int, endStream: Bool)
    /// HEADERS (§6.2). `selfDependent` flags a priority block naming the stream itself (§5.3.1: a stream error,
    /// reported only after the field block was decoded, so HPACK state stays in step).
    case headers(streamID: UInt32, fragment: Range<Int>, endStream: Bool, endHeaders: Bool, selfDependent: Bool)
    /// PRIORITY (§6.3): accepted and ignored (RFC 9113 deprecates the priority scheme).
    case priority(streamID: UInt32)
    /// RST_STREAM (§6.4).
    case rstStream(streamID: UInt32, code: HTTP2ErrorCode)
    /// SETTINGS (§6.5): `payload` holds whole 6-octet entries.
    case settings(ack: Bool, payload: Range<Int>)
    /// PUSH_PROMISE (§6.6): a server never accepts one (§8.4).
    case pushPromise(streamID: UInt32)
    /// PING (§6.7).
    case ping(ack: Bool, opaque: UInt64)
    /// GOAWAY (§6.8).
    case goAway(lastStreamID: UInt32, code: HTTP2ErrorCode, debug: Range<Int>)
    /// WINDOW_UPDATE (§6.9); `increment` may be 0, which the state machine turns into the right error.
    case windowUpdate(streamID: UInt32, increment: UInt32)
    /// CONTINUATION (§6.10).
    case continuation(streamID: UInt32, fragment: Range<Int>, endHeaders: Bool)
    /// An extension frame type (§4.1, §5.5: ignored).
    case unknown(type: UInt8, streamID: UInt32)
}

/// What `HTTP2FrameParser.parse` found at the start of a buffer.
public enum HTTP2FrameParseResult: Sendable, Equatable {
    /// Fewer bytes than a whole frame; call again with more (the header alone was already checked).
    case incomplete
    /// A valid frame and the octets it took.
    case frame(HTTP2Frame, consumed: Int)
    /// A frame that breaks a rule whose scope is one stream (§5.4.2): reset the stream, go on after `consumed`.
    case streamError(streamID: UInt32, code: HTTP2ErrorCode, consumed: Int)
    /// A frame that breaks a rule whose scope is the connection (§5.4.1): GOAWAY with `code` and close.
    case connectionError(HTTP2ErrorCode)
}

/// The RFC 9113 §4–§6 checks that need nothing but the frame itself; the stream-state rules live in the
/// connection. Sans-IO and allocation-free: it borrows the caller's bytes.
public enum HTTP2FrameParser {
    /// Parses the frame at the start of `buffer`, rejecting a length over `maxFrameSize` as soon as the 9-octet
    /// header is there (§4.2: FRAME_SIZE_ERROR), so an oversized frame is never buffered.
    public static func parse(_ buffer: UnsafeRawBufferPointer, maxFrameSize: Int) -> HTTP2FrameParseResult {
        guard buffer.count >= HTTP2FrameHeader.size else { return .incomplete }
        let header = HTTP2FrameHeader.read(buffer, at: 0)
        // §4.2: we treat every oversized frame as a connection error; the RFC requires it for most types and
        // allows it for the rest, and it spares us half-reading a frame we will not buffer.
        guard header.length <= maxFrameSize else { return .connectionError(.frameSizeError) }
        let end = HTTP2FrameHeader.size + header.length
        guard buffer.count >= end else { return .incomplete }
        let start = HTTP2FrameHeader.size
        switch header.type {
        case HTTP2FrameType.data: return data(header, buffer, start, end)
        case HTTP2FrameType.headers: return headers(header, buffer, start, end)
        case HTTP2FrameType.priority: return priority(header, buffer, start, end)
        case HTTP2FrameType.rstStream: return rstStream(header, buffer, start, end)
        case HTTP2FrameType.settings: return settings(header, start, end)
        case HTTP2FrameType.pushPromise:
            // §6.6: stream 0 is a PROTOCOL_ERROR; any other is refused by the server state machine (§8.4).
            guard header.streamID != 0 else { return .connectionError(.protocolError) }
            return .frame(.pushPromise(streamID: header.streamID), consumed: end)
        case HTTP2FrameType.ping: return ping(header, buffer, start, end)
        case HTTP2FrameType.goAway: return goAway(header, buffer, start, end)
        case HTTP2FrameType.windowUpdate: return windowUpdate(header, buffer, start, end)
        case HTTP2FrameType.continuation:
            // §6.10: CONTINUATION on stream 0 is a PROTOCOL_ERROR.
            guard header.streamID != 0 else { return .connectionError(.protocolError) }
            let frame = HTTP2Frame.continuation(
                streamID: header.streamID, fragment: start..<end, endHeaders: header.has(HTTP2FrameFlags.endHeaders))
            return .frame(frame, consumed: end)
        default:
            return .frame(.unknown(type: header.type, streamID: header.streamID), consumed: end)
        }
    }

    /// Strips the Pad Length octet and padding when PADDED is set: nil when the padding is the payload length or
    /// more (§6.1, §6.2: PROTOCOL_ERROR), `.frameSizeError` when there is no room for the Pad Length octet itself.
    private static func unpadded(
        _ header: HTTP2FrameHeader, _ buffer: UnsafeRawBufferPointer, _ start: Int, _ end: Int
    ) -> Result<Range<Int>, HTTP2ErrorCode> {
        guard header.has(HTTP2FrameFlags.padded) else { return .success(start..<end) }
        guard end > start else { return .failure(.frameSizeError) }
        let padLength = Int(buffer[start])
        guard padLength < end - start else { return .failure(.protocolError) }
        return .success((start + 1)..<(end - padLength))
    }

    private static func data(
        _ header: HTTP2FrameHeader, _ buffer: UnsafeRawBufferPointer, _ start: Int, _ end: Int
    ) -> HTTP2FrameParseResult {
        // §6.1: DATA on stream 0 is a PROTOCOL_ERROR.
        guard header.streamID != 0 else { return .connectionError(.protocolError) }
        switch unpadded(header, buffer, start, end) {
        case .failure(let code): return .connectionError(code)
        case .success(let payload):
            let frame = HTTP2Frame.data(
                streamID: header.streamID, payload: payload, flowLength: header.length,
                endStream: header.has(HTTP2FrameFlags.endStream))
            return .frame(frame, consumed: end)
        }
    }

    private static func headers(
        _ header: HTTP2FrameHeader, _ buffer: UnsafeRawBufferPointer, _ start: Int, _ end: Int
    ) -> HTTP2FrameParseResult {
        // §6.2: HEADERS on stream 0 is a PROTOCOL_ERROR.
        guard header.streamID != 0 else { return .connectionError(.protocolError) }
        var fragment: Range<Int>
        switch unpadded(header, buffer, start, end) {
        case .failure(let code): return .connectionError(code)
        case .success(let range): fragment = range
        }
        var selfDependent = false
        if header.has(HTTP2FrameFlags.priority) {
            // §6.2: the 5 priority octets must fit inside the unpadded payload.
            guard fragment.count >= 5 else { return .connectionError(.frameSizeError) }
            selfDependent = readUInt32(buffer, at: fragment.lowerBound) & 0x7FFF_FFFF == header.streamID
            fragment = (fragment.lowerBound + 5)..<fragment.upperBound
        }
        let frame = HTTP2Frame.headers(
            streamID: header.streamID, fragment: fragment, endStream: header.has(HTTP2FrameFlags.endStream),
            endHeaders: header.has(HTTP2FrameFlags.endHeaders), selfDependent: selfDependent)
        return .frame(frame, consumed: end)
    }

    private static func priority(
        _ header: HTTP2FrameHeader, _ buffer: UnsafeRawBufferPointer, _ start: Int, _ end: Int
    ) -> HTTP2FrameParseResult {
        // §6.3: stream 0 is a connection PROTOCOL_ERROR; a length other than 5 is a stream FRAME_SIZE_ERROR.
        guard header.streamID != 0 else { return .connectionError(.protocolError) }
        guard header.length == 5 else {
            return .streamError(streamID: header.streamID, code: .frameSizeError, consumed: end)
        }
        if readUInt32(buffer, at: start) & 0x7FFF_FFFF == header.streamID {
            return .streamError(streamID: header.streamID, code: .protocolError, consumed: end)  // §5.3.1
        }
        return .frame(.priority(streamID: header.streamID), consumed: end)
    }

    private static func rstStream(
        _ header: HTTP2FrameHeader, _ buffer: UnsafeRawBufferPointer, _ start: Int, _ end: Int
    ) -> HTTP2FrameParseResult {
        // §6.4: stream 0 is a PROTOCOL_ERROR, a length other than 4 a FRAME_SIZE_ERROR.
        guard header.streamID != 0 else { return .connectionError(.protocolError) }
        guard header.length == 4 else { return .connectionError(.frameSizeError) }
        let code = HTTP2ErrorCode(rawValue: readUInt32(buffer, at: start))
        return .frame(.rstStream(streamID: header.streamID, code: code), consumed: end)
    }

    private static func settings(_ header: HTTP2FrameHeader, _ start: Int, _ end: Int) -> HTTP2FrameParseResult {
        // §6.5: a stream other than 0 is a PROTOCOL_ERROR; an ACK with a payload, or a length that is not a
        // multiple of 6, is a FRAME_SIZE_ERROR.
        guard header.streamID == 0 else { return .connectionError(.protocolError) }
        let ack = header.has(HTTP2FrameFlags.ack)
        if ack && header.length != 0 { return .connectionError(.frameSizeError) }
        guard header.length % 6 == 0 else { return .connectionError(.frameSizeError) }
        return .frame(.settings(ack: ack, payload: start..<end), consumed: end)
    }

    private static func ping(
        _ header: HTTP2FrameHeader, _ buffer: UnsafeRawBufferPointer, _ start: Int, _ end: Int
    ) -> HTTP2FrameParseResult {
        // §6.7: a stream other than 0 is a PROTOCOL_ERROR, a length other than 8 a FRAME_SIZE_ERROR.
        guard header.streamID == 0 else { return .connectionError(.protocolError) }
        guard header.length == 8 else { return .connectionError(.frameSizeError) }
        let opaque = UInt64(readUInt32(buffer, at: start)) << 32 | UInt64(readUInt32(buffer, at: start + 4))
        return .frame(.ping(ack: header.has(HTTP2FrameFlags.ack), opaque: opaque), consumed: end)
    }

    private static func goAway(
        _ header: HTTP2FrameHeader, _ buffer: UnsafeRawBufferPointer, _ start: Int, _ end: Int
    ) -> HTTP2FrameParseResult {
        // §6.8: a stream other than 0 is a PROTOCOL_ERROR; fewer than 8 octets cannot hold the fixed fields.
        guard header.streamID == 0 else { return .connectionError(.protocolError) }
        guard header.length >= 8 else { return .connectionError(.frameSizeError) }
        let last = readUInt32(buffer, at: start) & 0x7FFF_FFFF
        let code = HTTP2ErrorCode(rawValue: readUInt32(buffer, at: start + 4))
        return .frame(.goAway(lastStreamID: last, code: code, debug: (start + 8)..<end), consumed: end)
    }

    private static func windowUpdate(
        _ header: HTTP2FrameHeader, _ buffer: UnsafeRawBufferPointer, _ start: Int, _ end: Int
    ) -> HTTP2FrameParseResult {
        // §6.9: a length other than 4 is a FRAME_SIZE_ERROR (connection-wide: we cannot trust the frame).
        guard header.length == 4 else { return .connectionError(.frameSizeError) }
        let increment = readUInt32(buffer, at: start) & 0x7FFF_FFFF
        return .frame(.windowUpdate(streamID: header.streamID, increment: increment), consumed: end)
    }
}
