/// The per-connection limits of a server connection (SPEC §10 `limits.h2`), copied into every connection.
///
/// The gateway's config layer maps `limits.h2` and `limits.max_header_bytes` onto this struct; the values are
/// assumed valid (MeshConfig's `check` rejects windows over 2^31−1 and frame sizes outside 16,384–16,777,215),
/// and the initialiser clamps them into the RFC ranges anyway so a bad value can never put us off the protocol.
public struct HTTP2Limits: Sendable, Equatable {
    /// SETTINGS_MAX_CONCURRENT_STREAMS we advertise; a stream over it gets RST_STREAM REFUSED_STREAM. Also the rapid
    /// reset budget: more streams than this reset before their response started within 1 s ends the connection.
    public var maxConcurrentStreams: Int
    /// SETTINGS_INITIAL_WINDOW_SIZE we advertise: each stream's receive window.
    public var initialWindowBytes: Int
    /// SETTINGS_MAX_FRAME_SIZE we advertise: the largest frame payload we accept.
    public var maxFrameBytes: Int
    /// SETTINGS_MAX_HEADER_LIST_SIZE we advertise: a complete header block decoding to more (RFC 9113 §6.5.2 size)
    /// is reported as too large (431); a block passing it before END_HEADERS ends the connection.
    public var maxHeaderBytes: Int
    /// SETTINGS_HEADER_TABLE_SIZE: the most the peer's HPACK encoder may use of our decoder's dynamic table.
    public var headerTableBytes: Int
    /// SETTINGS, PING, empty DATA and empty HEADERS/CONTINUATION frames allowed per second before ENHANCE_YOUR_CALM.
    public var maxControlFramesPerSecond: Int
    /// Output queued and not yet drained by the caller beyond which the connection is ended (ENHANCE_YOUR_CALM):
    /// a peer that never reads while making us answer PINGs and SETTINGS. DATA stops `controlHeadroom` short of it.
    public var maxOutboundBytes: Int
    /// What DATA leaves free of `maxOutboundBytes` (frame headers counted): room for the answers to a reading
    /// peer's PINGs and SETTINGS while its socket is full, so only a peer that keeps asking without reading
    /// passes the budget.
    public static let controlHeadroom = 16 * 1024
    /// The client stream id from which the connection is wound down with GOAWAY NO_ERROR, so the client opens a new
    /// connection before it runs out of ids (2^31−1 is the last one).
    public var streamIDHighWater: UInt32

    /// Creates limits; the defaults are SPEC §10's (100 streams, 65,535-byte windows, 16,384-byte frames) and §3's
    /// 64 KiB header limit.
    public init(
        maxConcurrentStreams: Int = 100, initialWindowBytes: Int = 65_535, maxFrameBytes: Int = 16_384,
        maxHeaderBytes: Int = 65_536, headerTableBytes: Int = 4_096, maxControlFramesPerSecond: Int = 1_000,
        maxOutboundBytes: Int = 1 << 20, streamIDHighWater: UInt32 = 0x7FFF_0000
    ) {
        self.maxConcurrentStreams = min(max(maxConcurrentStreams, 1), 1 << 20)
        self.initialWindowBytes = min(max(initialWindowBytes, 0), HTTP2Window.max)
        self.maxFrameBytes = min(max(maxFrameBytes, 16_384), 16_777_215)
        self.maxHeaderBytes = max(maxHeaderBytes, 0)
        self.headerTableBytes = min(max(headerTableBytes, 0), 1 << 20)
        self.maxControlFramesPerSecond = max(maxControlFramesPerSecond, 1)
        self.maxOutboundBytes = max(maxOutboundBytes, 64 * 1024)
        self.streamIDHighWater = min(streamIDHighWater, 0x7FFF_FFFF)
    }

    /// The connection receive window: SPEC §10 raises it to streams × per-stream window, capped at 2^31−1.
    public var connectionWindowBytes: Int {
        let product = maxConcurrentStreams.multipliedReportingOverflow(by: initialWindowBytes)
        return product.overflow ? HTTP2Window.max : min(product.partialValue, HTTP2Window.max)
    }
}

/// Flow-control window constants (RFC 9113 §6.9).
public enum HTTP2Window {
    /// The largest window (2^31−1); a WINDOW_UPDATE or SETTINGS change beyond it is a FLOW_CONTROL_ERROR.
    public static let max = 0x7FFF_FFFF
    /// The initial window of every stream and of the connection before SETTINGS say otherwise.
    public static let initial = 65_535
}
