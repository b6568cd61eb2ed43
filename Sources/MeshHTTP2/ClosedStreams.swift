/// The streams closed recently and who closed them (RFC 9113 §5.1), so a frame for a closed stream gets the
/// answer its history calls for: DATA on a stream the client ended or reset is STREAM_CLOSED (§6.1), frames for
/// a stream we reset are ignored (they were in flight), and HEADERS with an id below the highest that was never
/// opened is a PROTOCOL_ERROR (§5.1.1). Bounded: the oldest entries are forgotten (their ids, up to
/// `forgottenUpTo`, are then treated as "ignore"), so a client cannot grow it.
struct ClosedStreams: Sendable {
    enum Closer: Sendable, Equatable {
        case client
        case server
    }

    private var ring: [UInt32]
    private var next = 0
    /// Every id at or below this has been forgotten.
    private(set) var forgottenUpTo: UInt32 = 0
    /// Stream ids are below 2^31: the top bit says "we reset it".
    private static let serverBit: UInt32 = 1 << 31

    init(capacity: Int) {
        ring = Array(repeating: 0, count: max(capacity, 8))
    }

    mutating func record(_ streamID: UInt32, by closer: Closer) {
        let old = ring[next] & ~Self.serverBit
        if old > forgottenUpTo { forgottenUpTo = old }
        ring[next] = closer == .server ? streamID | Self.serverBit : streamID
        next = (next + 1) % ring.count
    }

    /// Who closed `streamID`, if it is remembered (a linear scan: only frames for closed streams get here).
    func closer(of streamID: UInt32) -> Closer? {
        for entry in ring where entry & ~Self.serverBit == streamID && streamID != 0 {
            return entry & Self.serverBit != 0 ? .server : .client
        }
        return nil
    }
}
