/// The state the server keeps per stream. Idle and closed streams have no entry (RFC 9113 §5.1): a stream id at
/// or below the highest one seen and not in the table is closed.
struct HTTP2Stream: Sendable {
    /// §5.1 states that have an entry (no push, so no reserved states).
    enum Phase: Sendable, Equatable {
        /// Both sides may send.
        case open
        /// The client sent END_STREAM; the response is still going.
        case halfClosedRemote
        /// We sent END_STREAM; the request body is still coming.
        case halfClosedLocal
    }

    var phase: Phase = .open
    /// What we may still send (may go negative after a SETTINGS_INITIAL_WINDOW_SIZE decrease, §6.9.2).
    var sendWindow: Int
    /// What the peer may still send us.
    var recvWindow: Int
    /// Bytes the caller consumed that we have not yet returned with WINDOW_UPDATE.
    var recvPending = 0
    /// The caller has seen the stream (`.request` or `.headersTooLarge`).
    var delivered = false
    /// Response HEADERS were written (rapid-reset accounting, and DATA needs them first).
    var responseStarted = false
    /// Body bytes are credited back and dropped instead of delivered (after `.headersTooLarge`).
    var discardBody = false
    /// `content-length` of the request, checked against the DATA received (§8.1.1).
    var contentLength: Int?
    /// DATA payload octets received.
    var received = 0
}

/// A counter over a window of one second anchored at its first event: the next event 1 s or more later starts a
/// new window. Cheap (two words per budget), at the price of letting a burst straddling two windows reach up to
/// twice the limit within one second.
struct RateWindow: Sendable {
    private var start: UInt64 = 0
    private var count = 0

    /// Counts one event at `now` (nanoseconds, monotonic); true when the window now holds more than `limit`.
    mutating func record(now: UInt64, limit: Int) -> Bool {
        // Wrapping subtraction: a clock going backwards looks like a long gap and restarts the window.
        if count == 0 || now &- start >= 1_000_000_000 {
            start = now
            count = 0
        }
        count += 1
        return count > limit
    }
}
