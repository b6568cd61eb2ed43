import Glibc
import MeshEventLoop
import MeshHTTP1
import MeshHTTP2
import MeshPosix

/// The in-memory connection between an HTTP/2 stream's bridge (`HTTP2StreamBridge`, the outer side) and the
/// `DownstreamConnection` serving the stream (the inner side): what a socket pair was, without descriptors,
/// syscalls or a trip through epoll per hop. Both sides run on the worker's thread and hold virtual
/// registrations; each tells the other about new bytes by posting readiness to it through the loop, never by
/// calling into it, so neither ever runs inside the other.
///
/// Back-pressure is the pair's: the connection reads request bytes only as it can forward them (the bridge
/// returns the stream's flow-control window for what was read), and it may queue at most `responseCapacity`
/// bytes of answer the bridge has not taken (the bridge takes them only while the stream's window has room).
final class StreamPipe {
    static let responseCapacity = 64 * 1024

    unowned(unsafe) let loop: EventLoop
    /// The bridge's registration, and the connection's.
    var outer = Registration.none
    var inner = Registration.none
    private var request: [UInt8] = []
    private var requestStart = 0
    /// Request octets the connection read since the bridge last asked (its window credit).
    private var requestTaken = 0
    /// The bridge is told of each read (`.writable`): set while the stream's request may carry DATA, whose
    /// window goes back as it is read. A request that ended with its head has no window to return.
    var reportsReads = true
    private var response: [UInt8] = []
    private(set) var outerClosed = false
    private(set) var innerClosed = false
    /// A response head the connection handed over as fields instead of writing it as HTTP/1 bytes (which the
    /// bridge would only parse again): taken by the bridge before any response byte that follows it.
    private(set) var head: HandedOverHead?
    /// The connection finished an exchange and waits for its next request (`innerWaits`); cleared by the next
    /// request's bytes.
    private var innerWaiting = false

    struct HandedOverHead {
        let status: Int
        let framing: BodyFraming
        let fields: HTTP2HeaderList
    }

    init(loop: EventLoop) {
        self.loop = loop
    }

    // MARK: - The bridge's side

    /// Queues request bytes for the connection (taken from `bytes`, which is left empty); false once it is gone
    /// (nothing will read them).
    func send(_ bytes: inout [UInt8]) -> Bool {
        guard !innerClosed else { return false }
        innerWaiting = false
        if requestStart == request.count {
            // Nothing pending: take the caller's array as it is (the request head, usually) instead of copying it.
            swap(&request, &bytes)
            bytes.removeAll(keepingCapacity: true)
            requestStart = 0
        } else {
            request.append(contentsOf: bytes)
            bytes.removeAll(keepingCapacity: true)
        }
        loop.post(inner, .readable)
        return true
    }

    /// Request octets the connection has read since the last call.
    func takeCredit() -> Int {
        defer { requestTaken = 0 }
        return requestTaken
    }

    /// Appends the answer bytes the connection wrote to `into`; the connection may write more now.
    func takeResponse(into out: inout [UInt8]) -> Int {
        let count = response.count
        guard count > 0 else { return 0 }
        let wasFull = count >= Self.responseCapacity
        if out.isEmpty {
            swap(&out, &response)
        } else {
            out.append(contentsOf: response)
        }
        response.removeAll(keepingCapacity: true)
        if wasFull { loop.post(inner, .writable) }
        return count
    }

    /// The head handed over by the connection, once (moved out: a copy retained its field list's arrays).
    func takeHead() -> HandedOverHead? { head.take() }

    /// Nothing is in transit either way and the connection waits for a request: the pair can carry another
    /// stream's exchange.
    var idle: Bool {
        innerWaiting && !innerClosed && !outerClosed && requestStart == request.count && response.isEmpty && head == nil
    }

    /// The bridge is done (answered, reset, or the client left): the connection sees its peer gone.
    func closeOuter() {
        guard !outerClosed else { return }
        outerClosed = true
        request.removeAll()
        loop.post(inner, [.readHangup, .hangup])
    }

    // MARK: - The connection's side

    enum ReadResult {
        case bytes(Int)
        case empty
        case end
    }

    /// Copies queued request bytes into `into`.
    func read(into: UnsafeMutableRawBufferPointer) -> ReadResult {
        let available = request.count - requestStart
        guard available > 0 else { return outerClosed ? .end : .empty }
        let n = min(available, into.count)
        request.withUnsafeBytes { bytes in
            into.baseAddress!.copyMemory(from: bytes.baseAddress! + requestStart, byteCount: n)
        }
        requestStart += n
        requestTaken += n
        if reportsReads { loop.post(outer, .writable) }
        return .bytes(n)
    }

    /// Moves what `outbound` holds into the answer, up to `responseCapacity` outstanding.
    func write(_ outbound: inout Outbound, pool: BufferPool) -> Outbound.FlushResult {
        guard !outerClosed else { return .failed(SystemError(errno: EPIPE, call: "pipe")) }
        let room = Self.responseCapacity - response.count
        guard room > 0 else { return .blocked }
        let taken = outbound.drain(limit: room, pool: pool) { (bytes: UnsafeRawBufferPointer) in
            response.append(contentsOf: bytes)
        }
        if taken > 0 { loop.post(outer, .readable) }
        return outbound.isEmpty ? .done : .blocked
    }

    /// Whether the connection may hand its response head over now: the bridge has read every byte before it (a
    /// `100 Continue`), so the head comes first of what is left.
    var takesHead: Bool { head == nil && response.isEmpty && !outerClosed }

    /// The connection's response head, as fields; the body follows as bytes.
    func handOver(_ head: HandedOverHead) {
        self.head = head
        loop.post(outer, .readable)
    }

    /// The connection finished an exchange, kept the connection, and has nothing of a next request.
    func innerWaits() { innerWaiting = true }

    /// The connection closed: the bridge reads what is left, then sees the end.
    func closeInner() {
        guard !innerClosed else { return }
        innerClosed = true
        // Request octets never read count as taken: the bridge returns their window (the connection's window
        // would shrink for good otherwise).
        requestTaken += request.count - requestStart
        request.removeAll()
        requestStart = 0
        loop.post(outer, [.readable, .hangup])
    }
}
