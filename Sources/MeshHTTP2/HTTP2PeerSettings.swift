/// What the peer told us in its SETTINGS frames (RFC 9113 §6.5.2), shared by the server and the client connection:
/// each setting limits what *we* send. Values start at the RFC's initial ones and change only through `apply`.
struct HTTP2PeerSettings: Sendable, Equatable {
    /// Which end of the connection we are: a few settings are only valid from one side.
    enum Role: Sendable {
        /// We are the server: the peer is a client.
        case server
        /// We are the client: the peer is a server (SETTINGS_ENABLE_PUSH must not be 1, §6.5.2).
        case client
    }

    /// SETTINGS_INITIAL_WINDOW_SIZE: the send window of new streams.
    var initialWindow = HTTP2Window.initial
    /// SETTINGS_MAX_FRAME_SIZE: the largest payload we send.
    var maxFrameSize = 16_384
    /// SETTINGS_MAX_CONCURRENT_STREAMS: nil until the peer sends one (§5.1.2: initially unlimited).
    var maxConcurrentStreams: Int?
    /// SETTINGS_MAX_HEADER_LIST_SIZE: advisory (§6.5.2), nil until sent (unlimited).
    var maxHeaderListSize: Int?

    /// What one SETTINGS frame changed, for the connection to act on.
    struct Update: Sendable, Equatable {
        /// The new initial window minus the old one: every open stream's send window moves by it (§6.9.2).
        var windowDelta = 0
        /// SETTINGS_HEADER_TABLE_SIZE was present: the encoder must repeat its table size update (RFC 7541 §4.2).
        var headerTableChanged = false
        /// SETTINGS_MAX_CONCURRENT_STREAMS was present.
        var concurrencyChanged = false
    }

    /// Applies every entry of a SETTINGS payload in order (unknown identifiers are ignored, §6.5.2).
    /// `largestSendWindow` is the largest send window of an open stream: an INITIAL_WINDOW_SIZE that would push it
    /// past 2^31−1 is a FLOW_CONTROL_ERROR (§6.9.2). On failure the connection ends, so a half-applied frame does
    /// not matter.
    mutating func apply(_ payload: UnsafeRawBufferPointer, role: Role, largestSendWindow: Int?)
        -> Result<Update, HTTP2ErrorCode>
    {
        var update = Update()
        var offset = 0
        while offset + 6 <= payload.count {
            let identifier = UInt16(payload[offset]) << 8 | UInt16(payload[offset + 1])
            let value = readUInt32(payload, at: offset + 2)
            offset += 6
            switch identifier {
            case HTTP2Setting.headerTableSize:
                update.headerTableChanged = true
            case HTTP2Setting.enablePush:
                // §6.5.2: only 0 or 1, and a server must not enable push.
                if value > 1 || (role == .client && value == 1) { return .failure(.protocolError) }
            case HTTP2Setting.enableConnectProtocol:
                if value > 1 { return .failure(.protocolError) }  // RFC 8441 §3: only 0 or 1
            case HTTP2Setting.initialWindowSize:
                guard value <= UInt32(HTTP2Window.max) else { return .failure(.flowControlError) }  // §6.5.2
                let delta = Int(value) - initialWindow
                if let largestSendWindow, largestSendWindow + update.windowDelta + delta > HTTP2Window.max {
                    return .failure(.flowControlError)
                }
                update.windowDelta += delta
                initialWindow = Int(value)
            case HTTP2Setting.maxFrameSize:
                guard (16_384...16_777_215).contains(value) else { return .failure(.protocolError) }  // §6.5.2
                maxFrameSize = Int(value)
            case HTTP2Setting.maxConcurrentStreams:
                maxConcurrentStreams = Int(value)
                update.concurrencyChanged = true
            case HTTP2Setting.maxHeaderListSize:
                maxHeaderListSize = Int(value)
            default:
                break
            }
        }
        return .success(update)
    }
}
