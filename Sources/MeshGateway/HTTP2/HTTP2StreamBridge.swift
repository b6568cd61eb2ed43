import Glibc
import MeshEventLoop
import MeshHTTP1
import MeshHTTP2
import MeshPosix
import MeshProxy

/// One HTTP/2 stream's exchange: its request goes as HTTP/1.1 into a `StreamPipe` whose other end a
/// `DownstreamConnection` serves like any client connection; the answer comes back through the pipe and leaves
/// as HEADERS, DATA and trailing HEADERS on the stream, within its flow-control window (the pipe is read only
/// while the window has room, so a client that stops reading stops the upstream through the usual
/// back-pressure).
///
/// A bridge whose stream ended cleanly (whole request read, whole answer taken, the inner connection waiting
/// for its next request) is kept by the session for the connection's next stream, as an HTTP/1 client keeps a
/// keep-alive connection: the pipe, the inner connection and their registrations are made once, not per stream.
final class HTTP2StreamBridge: EventHandler {
    unowned(unsafe) let session: HTTP2Session
    private(set) var streamID: UInt32 = 0
    private var method = HTTPMethod.get
    private var chunked = false
    private var registration: Registration
    private var loop: EventLoop { session.owner.worker.loop }

    private let pipe: StreamPipe
    /// Request bytes for the inner connection not yet handed to the pipe.
    private var toInner: [UInt8] = []
    /// Octets of the request's head and chunk framing among what the pipe carries: they are not the client's
    /// DATA, so they are not returned to its window when the inner connection reads them.
    private var framingOctets = 0
    /// The stream's request has ended (with its head, or with a last DATA frame).
    private var requestEnded = false
    private var readable = false
    private var innerGone = false
    /// The inner connection stopped reading (it answered early and closed): the rest of the request has nowhere
    /// to go, but its answer may still be waiting in the pair and is read to the end.
    private var requestRefused = false

    /// Response bytes read and not yet parsed or framed; the decoded body waiting for window.
    private var inbound: [UInt8] = []
    private var parser = ResponseParser()
    private var headSent = false
    private var body = BodyCursor()
    private var pendingData: [UInt8] = []
    private var done = true
    /// Armed while decoded body waits for window: a client that keeps the stream's (or the connection's) window
    /// at 0 for `idle_timeout_ms` without taking a byte gets the stream reset with CANCEL (SPEC §10), so a
    /// stalled reader cannot pin the exchange, its upstream connection and the pending bytes forever.
    private var stallTimer = LazyTimer()

    /// A bridge and its inner connection, with no stream yet (`start`).
    init(session: HTTP2Session) throws(SystemError) {
        self.session = session
        let owner = session.owner
        pipe = StreamPipe(loop: owner.worker.loop)
        registration = .none
        registration = owner.worker.loop.registerVirtual(handler: self)
        pipe.outer = registration
        do throws(SystemError) {
            _ = try DownstreamConnection(
                worker: owner.worker, listener: owner.acceptedOn, fd: -1, clientIP: owner.clientIP, pipe: pipe,
                clientTLS: owner.client.tls)
        } catch {
            owner.worker.loop.close(registration)
            throw error
        }
    }

    /// Carries stream `streamID`'s request to the inner connection; false (and nothing started) when the head
    /// cannot be an HTTP/1.1 request (SPEC §10: 400). Every per-stream field starts over here: a kept bridge must
    /// not lend one stream's state to the next.
    func start(streamID: UInt32, head: HTTP2RequestHead, endStream: Bool) -> Bool {
        // Emptied only when not empty: `removeAll(keepingCapacity:)` costs ~80 instructions even on an empty array.
        if !toInner.isEmpty { toInner.removeAll(keepingCapacity: true) }
        guard let request = HTTP2RequestTranslation.http1(head, endStream: endStream, into: &toInner) else {
            return false
        }
        self.streamID = streamID
        method = request.method
        chunked = request.chunked
        framingOctets = request.headCount
        requestEnded = request.endStream
        pipe.reportsReads = !request.endStream
        readable = false
        requestRefused = false
        if !inbound.isEmpty { inbound.removeAll(keepingCapacity: true) }
        parser.reset()
        headSent = false
        body = BodyCursor()
        if !pendingData.isEmpty { pendingData.removeAll(keepingCapacity: true) }
        done = false
        stallTimer.set(.max, loop: loop, registration: registration)
        pump()
        return true
    }

    /// The pipe and inner connection can carry another stream: nothing of this one is left in either, and the
    /// inner connection is waiting for a request (it closes instead after an answer that ends its connection).
    var isReusable: Bool {
        requestEnded && !requestRefused && !innerGone && toInner.isEmpty && inbound.isEmpty && pendingData.isEmpty
            && pipe.idle
    }

    // MARK: - Request: stream → inner connection

    func requestBody(_ bytes: [UInt8], end: Bool) {
        if requestRefused {
            // Nobody reads it: hand the window back at once so the client is not stalled by a body dropped here.
            session.codec.consumed(streamID: streamID, bytes: bytes.count)
            return
        }
        if chunked && !bytes.isEmpty {
            let before = toInner.count
            toInner.append(contentsOf: String(bytes.count, radix: 16).utf8)
            toInner.append(contentsOf: [0x0D, 0x0A])
            toInner.append(contentsOf: bytes)
            toInner.append(contentsOf: [0x0D, 0x0A])
            framingOctets += toInner.count - before - bytes.count
        } else {
            toInner.append(contentsOf: bytes)
        }
        if end && chunked {
            toInner.append(contentsOf: "0\r\n\r\n".utf8)
            framingOctets += 5
        }
        if end { requestEnded = true }
        pump()
    }

    // MARK: - Events

    func handleEvents(_ events: IOEvents) {
        if !events.intersection([.readable, .readHangup, .hangup, .error]).isEmpty { readable = true }
        if events.contains(.writable) { returnWindow() }
        pump()
    }

    func handleTimer(nowMs: Int64) {
        guard stallTimer.fired(nowMs: nowMs, loop: loop, registration: registration), !done, !pendingData.isEmpty
        else { return }
        done = true
        session.codec.resetStream(streamID: streamID, code: .cancel)
        release()
        session.flushSoon()
    }

    /// Makes every step possible now: request bytes out, response bytes in and on to the stream.
    func pump() {
        guard !done else { return }
        writeRequest()
        while !done {
            forwardPending()
            if done || !pendingData.isEmpty { break }
            // A head handed over as fields needs no read (a bodiless answer brings no bytes at all).
            let headWaiting = !headSent && inbound.isEmpty && pipe.head != nil
            guard headWaiting || readable && !innerGone && readResponse() else { break }
            guard translate() else { return }
        }
        session.flushSoon()
    }

    private func writeRequest() {
        guard !toInner.isEmpty, !innerGone, !requestRefused else { return }
        let count = toInner.count
        if !pipe.send(&toInner) {
            // Regression: issue 12 — an inner connection that answered early and stopped reading must not stop
            // our reads: its answer (a 404 while the upload was still arriving) is still to be read.
            requestRefused = true
            let body = count + pipe.takeCredit() - framingOctets
            if body > 0 { session.codec.consumed(streamID: streamID, bytes: body) }
            framingOctets = 0
            toInner.removeAll(keepingCapacity: true)
        }
    }

    /// The inner connection read request octets: the client's DATA among them goes back to its window.
    private func returnWindow() {
        var credit = pipe.takeCredit()
        let framing = min(credit, framingOctets)
        framingOctets -= framing
        credit -= framing
        if credit > 0 { session.codec.consumed(streamID: streamID, bytes: credit) }
    }

    /// Takes what the inner connection wrote; false when nothing more is there now.
    private func readResponse() -> Bool {
        if pipe.takeResponse(into: &inbound) > 0 { return true }
        readable = false
        if pipe.innerClosed {
            innerGone = true
            innerClosed()
        }
        return false
    }

    // MARK: - Response: inner connection → stream

    /// Turns what was read into the response head and body; false when the stream is over.
    private func translate() -> Bool {
        if !headSent {
            guard let continued = translateHead() else { return false }
            if !continued { return true }
        }
        guard !inbound.isEmpty else { return true }
        let taken: Result<(Int, Int), HTTPParseError> = inbound.withUnsafeMutableBytes { bytes in
            if case .chunked = body.mode { return body.takeDechunked(bytes) }
            return body.take(UnsafeRawBufferPointer(bytes)).map { ($0, $0) }
        }
        guard case .success(let (consumed, data)) = taken else {
            fail()
            return false
        }
        pendingData.append(contentsOf: inbound[0..<data])
        inbound.removeSubrange(0..<consumed)
        return true
    }

    /// Nil when the stream failed; false while the head is incomplete.
    private func translateHead() -> Bool? {
        if inbound.isEmpty, let handed = pipe.takeHead() {
            let started = startStream(status: handed.status, fields: handed.fields, framing: handed.framing)
            session.owner.worker.giveBack(handed.fields)
            return started
        }
        // The worker's scratch: heads are parsed one at a time on its thread, and nothing keeps offsets across calls.
        let headers = session.owner.worker.headers
        let parsed = inbound.withUnsafeBytes { parser.parse($0, headers: headers, requestMethod: method) }
        switch parsed {
        case .incomplete: return false
        case .invalid:
            fail()
            return nil
        case .complete(let head):
            if head.isInformational {
                inbound.removeSubrange(0..<head.headLength)
                parser.reset()
                return translateHead()
            }
            inbound.withUnsafeBytes {
                HTTP2ResponseFields.fill(&session.responseFields, from: $0, headers: headers, count: head.headerCount)
            }
            inbound.removeSubrange(0..<head.headLength)
            return startStream(status: head.status, fields: session.responseFields, framing: head.framing)
        }
    }

    /// Sends the response head; the body that follows is read with `framing`. Nil when the stream failed.
    private func startStream(status: Int, fields: HTTP2HeaderList, framing: BodyFraming) -> Bool? {
        body.begin(framing)
        // A chunked answer's trailer section becomes the stream's trailing HEADERS (gRPC's grpc-status).
        if case .chunked = body.mode { body.trailers = [] }
        let noBody = body.done
        do {
            try session.codec.writeResponseHead(streamID: streamID, status: status, headers: fields, endStream: noBody)
        } catch {
            fail()
            return nil
        }
        headSent = true
        if noBody { finish() }
        return true
    }

    /// Hands decoded body bytes to the stream as far as its window allows; ends the stream after the last.
    private func forwardPending() {
        guard headSent else { return }
        let last = body.done && inbound.isEmpty
        if pendingData.isEmpty && !last { return }
        let trailers = last ? HTTP2ResponseFields.trailers(body.trailers ?? []) : HTTP2HeaderList()
        do {
            var taken = 0
            if !pendingData.isEmpty || trailers.count == 0 {
                let endStream = last && trailers.count == 0
                taken = try pendingData.withUnsafeBytes { try session.codec.writeData(streamID: streamID, $0, endStream: endStream) }
                pendingData.removeSubrange(0..<taken)
                // Left over with window to spare: the codec's output is full, and only a flush makes room.
                if !pendingData.isEmpty, session.codec.sendWindow(streamID: streamID) ?? 0 > 0 { session.waitForRoom(self) }
            }
            if last && pendingData.isEmpty {
                if trailers.count > 0 { try session.codec.writeTrailers(streamID: streamID, trailers) }
                finish()
            }
            watchForStall(progressed: taken > 0)
        } catch {
            fail()
        }
    }

    /// Progress moves the stall deadline; bytes left with no progress keep it; none left disarms it.
    private func watchForStall(progressed: Bool) {
        guard !done, !pendingData.isEmpty else {
            stallTimer.set(.max, loop: loop, registration: registration)
            return
        }
        if progressed || stallTimer.deadlineMs == .max {
            let idle = session.owner.worker.config.source.limits.idleTimeoutMs
            stallTimer.set(loop.nowMs + Int64(idle), loop: loop, registration: registration)
        }
    }

    /// The inner connection closed: the end of a close-delimited body, else a truncated or missing answer.
    private func innerClosed() {
        if headSent && body.peerClosed() {
            forwardPending()
        } else if !done {
            fail()
        }
    }

    // MARK: - Ending

    private func finish() {
        done = true
        guard isReusable else { return release() }
        // The window of request octets read since the last return is the connection's too: returned now, while
        // the stream id still names this stream.
        returnWindow()
        // A kept bridge holds no large buffer: a big answer's storage goes now, small ones' is reused.
        Self.shrink(&toInner)
        Self.shrink(&inbound)
        Self.shrink(&pendingData)
        session.finished(self, keep: true)
    }

    private static func shrink(_ buffer: inout [UInt8]) {
        if buffer.capacity > 16 * 1024 { buffer = [] }
    }

    /// The answer cannot be completed: the client sees the stream reset, never a short body taken for whole.
    private func fail() {
        guard !done else { return }
        done = true
        session.codec.resetStream(streamID: streamID, code: .internalError)
        release()
    }

    /// The client reset the stream or left: closing our end makes the inner connection abandon the exchange.
    func abort() {
        guard !done else { return }
        done = true
        release()
    }

    private func release() {
        discard()
        session.finished(self, keep: false)
    }

    /// Closes the bridge's end: the inner connection sees its peer gone and closes.
    func discard() {
        done = true
        if registration.id != 0 { loop.close(registration) }
        registration = Registration(fd: -1, id: 0)
        pipe.closeOuter()
    }
}
