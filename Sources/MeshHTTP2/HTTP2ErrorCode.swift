/// An HTTP/2 error code (RFC 9113 §7), as carried by RST_STREAM and GOAWAY.
///
/// A struct rather than an enum: a peer may send codes we do not know, and §7 says unknown codes must not trigger
/// special behaviour (they are treated like `INTERNAL_ERROR` by whoever cares), so they have to be representable.
public struct HTTP2ErrorCode: RawRepresentable, Hashable, Sendable, Error, CustomStringConvertible {
    /// The 32-bit code on the wire.
    public var rawValue: UInt32

    /// Wraps a wire value.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Graceful shutdown, or a stream reset that is not an error.
    public static let noError = HTTP2ErrorCode(rawValue: 0x0)
    /// A generic protocol violation.
    public static let protocolError = HTTP2ErrorCode(rawValue: 0x1)
    /// An unexpected internal failure.
    public static let internalError = HTTP2ErrorCode(rawValue: 0x2)
    /// The peer broke the flow-control rules.
    public static let flowControlError = HTTP2ErrorCode(rawValue: 0x3)
    /// SETTINGS were not acknowledged in time.
    public static let settingsTimeout = HTTP2ErrorCode(rawValue: 0x4)
    /// A frame arrived on a half-closed or closed stream.
    public static let streamClosed = HTTP2ErrorCode(rawValue: 0x5)
    /// A frame had an invalid size.
    public static let frameSizeError = HTTP2ErrorCode(rawValue: 0x6)
    /// The stream was refused before any processing (safe to retry).
    public static let refusedStream = HTTP2ErrorCode(rawValue: 0x7)
    /// The stream is no longer needed.
    public static let cancel = HTTP2ErrorCode(rawValue: 0x8)
    /// The HPACK state cannot be maintained (RFC 9113 §4.3).
    public static let compressionError = HTTP2ErrorCode(rawValue: 0x9)
    /// A CONNECT tunnel failed.
    public static let connectError = HTTP2ErrorCode(rawValue: 0xA)
    /// The peer is behaving abusively (SPEC §10 abuse budgets).
    public static let enhanceYourCalm = HTTP2ErrorCode(rawValue: 0xB)
    /// The transport does not meet minimum security requirements.
    public static let inadequateSecurity = HTTP2ErrorCode(rawValue: 0xC)
    /// HTTP/1.1 is required instead.
    public static let http11Required = HTTP2ErrorCode(rawValue: 0xD)

    private static let names = [
        "NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT", "STREAM_CLOSED",
        "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM",
        "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
    ]

    /// The RFC name (`PROTOCOL_ERROR`), or `0x…` for an unknown code.
    public var description: String {
        rawValue < UInt32(Self.names.count) ? Self.names[Int(rawValue)] : "0x" + String(rawValue, radix: 16)
    }
}
