/// Frame type codes (RFC 9113 §6); any other value is an extension frame, which §4.1 says to ignore.
public enum HTTP2FrameType {
    public static let data: UInt8 = 0x0
    public static let headers: UInt8 = 0x1
    public static let priority: UInt8 = 0x2
    public static let rstStream: UInt8 = 0x3
    public static let settings: UInt8 = 0x4
    public static let pushPromise: UInt8 = 0x5
    public static let ping: UInt8 = 0x6
    public static let goAway: UInt8 = 0x7
    public static let windowUpdate: UInt8 = 0x8
    public static let continuation: UInt8 = 0x9
}

/// Frame flag bits (RFC 9113 §6); each is meaningful only for the frame types named.
public enum HTTP2FrameFlags {
    /// DATA, HEADERS: the last frame the sender will send on the stream.
    public static let endStream: UInt8 = 0x1
    /// SETTINGS, PING: an acknowledgement.
    public static let ack: UInt8 = 0x1
    /// HEADERS, PUSH_PROMISE, CONTINUATION: the field block is complete.
    public static let endHeaders: UInt8 = 0x4
    /// DATA, HEADERS, PUSH_PROMISE: a Pad Length octet and padding are present.
    public static let padded: UInt8 = 0x8
    /// HEADERS: the deprecated priority fields (5 octets) are present.
    public static let priority: UInt8 = 0x20
}

/// The 9-octet frame header (RFC 9113 §4.1).
public struct HTTP2FrameHeader: Sendable, Equatable {
    /// Size of the header on the wire.
    public static let size = 9

    /// Payload length (24 bits).
    public var length: Int
    /// Frame type (`HTTP2FrameType`).
    public var type: UInt8
    /// Flag bits (`HTTP2FrameFlags`).
    public var flags: UInt8
    /// Stream identifier; the reserved high bit is cleared (§4.1: MUST be ignored when receiving).
    public var streamID: UInt32

    /// Creates a header.
    public init(length: Int, type: UInt8, flags: UInt8, streamID: UInt32) {
        self.length = length
        self.type = type
        self.flags = flags
        self.streamID = streamID
    }

    /// Reads a header from the 9 octets at `offset` (the caller checked they are there).
    @inlinable
    public static func read(_ buffer: UnsafeRawBufferPointer, at offset: Int) -> HTTP2FrameHeader {
        let length = Int(buffer[offset]) << 16 | Int(buffer[offset + 1]) << 8 | Int(buffer[offset + 2])
        return HTTP2FrameHeader(
            length: length, type: buffer[offset + 3], flags: buffer[offset + 4],
            streamID: readUInt32(buffer, at: offset + 5) & 0x7FFF_FFFF)
    }

    /// Appends the header to `out`.
    @inlinable
    public func write(into out: inout [UInt8]) {
        out.append(UInt8(truncatingIfNeeded: length >> 16))
        out.append(UInt8(truncatingIfNeeded: length >> 8))
        out.append(UInt8(truncatingIfNeeded: length))
        out.append(type)
        out.append(flags)
        appendUInt32(streamID & 0x7FFF_FFFF, to: &out)
    }

    /// Whether `flag` is set.
    @inlinable
    public func has(_ flag: UInt8) -> Bool { flags & flag != 0 }
}

/// Big-endian 32-bit read.
@inlinable
func readUInt32(_ buffer: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
    UInt32(buffer[offset]) << 24 | UInt32(buffer[offset + 1]) << 16 | UInt32(buffer[offset + 2]) << 8
        | UInt32(buffer[offset + 3])
}

/// Big-endian 32-bit append.
@inlinable
func appendUInt32(_ value: UInt32, to out: inout [UInt8]) {
    out.append(UInt8(truncatingIfNeeded: value >> 24))
    out.append(UInt8(truncatingIfNeeded: value >> 16))
    out.append(UInt8(truncatingIfNeeded: value >> 8))
    out.append(UInt8(truncatingIfNeeded: value))
}
