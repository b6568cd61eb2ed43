import CLinux
import Glibc
import MeshEventLoop
import MeshHTTP1
import MeshHTTP2
import MeshPosix

/// An HTTP/2 client connection (SPEC §10: h2c with prior knowledge on a plaintext listener, h2 by ALPN on TLS): the sans-IO codec
/// on the client's socket, and one `HTTP2StreamBridge` per request stream.
///
/// Each stream becomes an exchange through the very same path as an HTTP/1 request: the bridge writes the
/// request as HTTP/1.1 into an in-memory `StreamPipe` and a `DownstreamConnection` on the other end serves it
/// (routing, JWT, rate limits, retries, breakers, fallbacks, metrics, logs, trace context, the trust boundary),
/// then the bridge turns the HTTP/1.1 answer into HEADERS and DATA frames. The cost is a copy and a re-parse per
/// stream; what it buys is that no rule exists twice. (`docs/decisions.md`, "HTTP/2".)
final class HTTP2Session {
    /// The client connection that owns the socket (and this session).
    unowned(unsafe) let owner: DownstreamConnection
    var codec: HTTP2ServerConnection
    private var streams = StreamTable<HTTP2StreamBridge>()
    /// Bridges whose inner connection waits for a next stream, as an HTTP/1 client keeps idle connections. As
    /// many as streams were open at once in this second or the last, at least `keptBridges`: a client running
    /// 100 streams at a time finds 100 waiting even right after a whole batch ended (a new inner connection per
    /// stream cost its setup and left timer entries behind for seconds), and once it slows down the surplus goes
    /// as its streams open and end. Each holds an idle inner connection (~1 KiB).
    private var kept: [HTTP2StreamBridge] = []
    static let keptBridges = 8
    /// The most streams open at once in the current second and the one before (`keptLimit`).
    private var peak = (second: Int64(0), current: 0, previous: 0)
    private var events: [HTTP2Event] = []
    /// Bridges whose answer waits for room in the codec's output, not for window.
    private var waitingForRoom = RoomWaiters<HTTP2StreamBridge>()
    private var windingDown = false
    /// The response head being translated (one list per session, refilled for each response).
    var responseFields = HTTP2HeaderList()
    /// Codec output the client has not taken yet (it reads slowly): written from the worker's scratch when it
    /// can be at once, kept here only while it cannot. An idle connection holds none (a 64 KiB buffer per
    /// session was most of an idle h2 connection's memory).
    private var unwritten: UnsafeMutableRawBufferPointer?

    init(owner: DownstreamConnection, limits: HTTP2Limits) {
        self.owner = owner
        codec = HTTP2ServerConnection(limits: limits)
    }

    deinit {
        unwritten?.deallocate()
    }

    private var nowNs: UInt64 { UInt64(max(0, clinux_monotonic_ns())) }

    /// A write of the codec's output is posted to the owner (`flushSoon`) and not yet done.
    private var flushPosted = false

    /// Writes the codec's output once the streams that have something to say this round have said it: one
    /// write (and one TLS record run) for many streams' frames instead of one each.
    func flushSoon() {
        // Nothing queued: no wake-up (a stream's pump often only moved request bytes or took window credit).
        guard !flushPosted, codec.outboundCount > 0 else { return }
        flushPosted = true
        owner.worker.loop.post(owner.registration, .wake)
    }

    /// Bytes the client sent (the connection preface first).
    func received(_ bytes: UnsafeRawBufferPointer) {
        codec.feed(bytes, now: nowNs, into: &events)
        // Handled from a batch of their own (handling may feed more events); the storage goes back after, so
        // no array is allocated per read.
        var batch: [HTTP2Event] = []
        swap(&batch, &events)
        // Moved out one by one, not iterated: iterating copied each event (its head's arrays retained and
        // released), and the head's storage, still shared with the batch, could not be recycled in place.
        batch.reverse()
        while let event = batch.popLast() { handle(event) }
        if events.isEmpty { swap(&batch, &events) }
        flush()
    }

    private func handle(_ event: consuming HTTP2Event) {
        switch event {
        case .request(let id, let head, let endStream):
            open(id, head: head, endStream: endStream)
        case .data(let id, let bytes, let endStream):
            if let stream = streams[id] {
                stream.requestBody(bytes, end: endStream)
            } else {
                codec.consumed(streamID: id, bytes: bytes.count)
            }
        case .trailers(let id, _):
            // Request trailers are dropped, as on HTTP/1 (SPEC §4); they end the body.
            streams[id]?.requestBody([], end: true)
        case .headersTooLarge(let id):
            answerLocally(id, status: 431, code: "headers_too_large")
        case .streamReset(let id, _), .streamFailed(let id, _, _):
            streams.removeValue(forKey: id)?.abort()
        case .windowOpened(let id):
            if id == 0 { for stream in streams.values { stream.pump() } } else { streams[id]?.pump() }
        case .malformedRequest, .goAway:
            break
        case .connectionError:
            closeStreams()
        }
    }

    private func open(_ id: UInt32, head: HTTP2RequestHead, endStream: Bool) {
        // The head's storage serves the next header block once the bridge has translated it.
        defer { codec.recycle(head.fields) }
        guard let stream = keptBridge() ?? (try? HTTP2StreamBridge(session: self)) else {
            answerLocally(id, status: 503, code: "unavailable")
            return
        }
        streams[id] = stream
        notePeak()
        guard stream.start(streamID: id, head: head, endStream: endStream) else {
            streams.removeValue(forKey: id)
            kept.append(stream)  // untouched: a later stream may have it (or it is let go when taken)
            answerLocally(id, status: 400, code: "bad_request")
            return
        }
    }

    private func notePeak() {
        let second = owner.worker.loop.nowMs / 1000
        if second != peak.second {
            peak = (second, streams.count, second == peak.second + 1 ? peak.current : 0)
        } else {
            peak.current = max(peak.current, streams.count)
        }
    }

    private var keptLimit: Int { max(Self.keptBridges, peak.current, peak.previous) }

    /// A kept bridge whose inner connection is still waiting (one that timed out or was closed by a drain since
    /// is let go).
    private func keptBridge() -> HTTP2StreamBridge? {
        while let bridge = kept.popLast() {
            if bridge.isReusable { return bridge }
            bridge.discard()
        }
        return nil
    }

    /// The gateway's own answer on one stream (SPEC §4's JSON body), for what never became an exchange.
    private func answerLocally(_ id: UInt32, status: Int, code: String) {
        var requestID: [UInt8] = []
        owner.worker.appendRequestID(into: &requestID)
        let idText = String(decoding: requestID, as: UTF8.self)
        let body = Array("{\"error\":\"\(code)\",\"request_id\":\"\(idText)\"}".utf8)
        var fields = HTTP2HeaderList()
        fields.append("content-type", "application/json")
        fields.append("x-request-id", idText)
        fields.append("content-length", String(body.count))
        try? codec.writeResponseHead(streamID: id, status: status, headers: fields, endStream: false)
        _ = try? codec.writeData(streamID: id, body, endStream: true)
    }

    /// A stream's exchange is over (its answer is queued, or it failed); `keep`: its bridge can carry another.
    func finished(_ stream: HTTP2StreamBridge, keep: Bool) {
        if streams[stream.streamID] === stream { streams.removeValue(forKey: stream.streamID) }
        if keep {
            if windingDown { stream.discard() } else { kept.append(stream) }
        }
        notePeak()
        while kept.count > keptLimit, let surplus = kept.first {
            // The longest kept go first (its inner connection has waited longest).
            kept.removeFirst()
            surplus.discard()
        }
        if windingDown && streams.isEmpty && flush() { owner.close() }
    }

    /// Writes what the codec queued, through the owner's output (and its TLS, for h2 over TLS); false when the
    /// socket is full (the owner waits for writability) or gone (the owner closed).
    @discardableResult
    func flush() -> Bool {
        flushPosted = false
        while true {
            if owner.client.out.isEmpty {
                releaseUnwritten()
                guard codec.outboundCount > 0 else { break }
                let scratch = owner.worker.h2WriteScratch
                var taken = 0
                codec.drainOutbound { bytes in
                    taken = min(bytes.count, scratch.count)
                    scratch.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: taken)
                    return taken
                }
                // The output holds a pointer into the scratch until it is written: refilled only once empty.
                owner.client.out.queueBody(UnsafeRawBufferPointer(start: scratch.baseAddress, count: taken))
            }
            guard owner.flushClient() else {
                keepUnwritten()
                return false
            }
        }
        // Regression: issue 12 — an answer larger than the output budget stalled mid-body (until the route's
        // timeout reset it) whenever the client's socket was briefly full and its window large.
        if !waitingForRoom.isEmpty { for bridge in waitingForRoom.takeAll() { bridge.pump() } }
        if codec.isClosed {
            // A GOAWAY is out; the client may still be sending (the frame that broke the connection, say).
            owner.lingerAndClose()
            return false
        }
        return true
    }

    /// `bridge` has answer bytes the codec's output budget did not take (`RoomWaiters`).
    func waitForRoom(_ bridge: HTTP2StreamBridge) { waitingForRoom.add(bridge) }

    /// The client did not take all of a write: what is left moves out of the worker's scratch (the next session's
    /// flush refills it) into storage of our own, and the output points there until it is written.
    private func keepUnwritten() {
        let out = owner.client.out
        guard let body = out.body, out.bodyCount > 0 else { return }
        let scratch = owner.worker.h2WriteScratch
        guard body >= UnsafeRawPointer(scratch.baseAddress!), body < UnsafeRawPointer(scratch.baseAddress! + scratch.count)
        else { return }
        let storage = unwritten ?? .allocate(byteCount: scratch.count, alignment: 16)
        unwritten = storage
        storage.baseAddress!.copyMemory(from: body, byteCount: out.bodyCount)
        owner.client.out.body = UnsafeRawPointer(storage.baseAddress!)
    }

    /// Everything was written: the storage for a slow client goes (an idle connection keeps none).
    private func releaseUnwritten() {
        unwritten?.deallocate()
        unwritten = nil
    }

    /// The client went away, or the connection ended: every stream's exchange is abandoned.
    func closeStreams() {
        let all = streams.values
        streams.removeAll()
        for stream in all { stream.abort() }
        for bridge in kept { bridge.discard() }
        kept.removeAll()
        _ = waitingForRoom.takeAll()
    }

    /// No stream in progress and nothing left to write.
    var isIdle: Bool { streams.isEmpty && codec.outboundCount == 0 }

    /// Drain or a removed listener (SPEC §7): GOAWAY NO_ERROR, the open streams finish, then the connection
    /// closes.
    func windDown() {
        windingDown = true
        for bridge in kept { bridge.discard() }
        kept.removeAll()
        _ = waitingForRoom.takeAll()
        codec.goAway(code: .noError)
        if flush() && streams.isEmpty { owner.close() }
    }
}

/// Tells an HTTP/2 client connection preface (RFC 9113 §3.4) from an HTTP/1 request at the start of a
/// plaintext connection (SPEC §10: both on the same port) or of a TLS connection whose ALPN chose `h2`.
enum HTTP2Preface {
    enum Match {
        case http1
        case http2
        /// The bytes so far are the start of the preface: read more before deciding.
        case partial
    }

    /// - Parameter allowed: a plaintext connection, or TLS whose ALPN chose `h2`.
    static func match(_ bytes: UnsafeRawBufferPointer, allowed: Bool) -> Match {
        let preface = HTTP2ServerConnection.preface
        guard allowed, let first = bytes.first, first == preface[0] else { return .http1 }
        let n = min(bytes.count, preface.count)
        for i in 1..<n where bytes[i] != preface[i] { return .http1 }
        return n == preface.count ? .http2 : .partial
    }
}
