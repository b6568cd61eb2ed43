import Glibc
import MeshEventLoop
import MeshHTTP1
import MeshPosix

/// One client connection of a `ServiceServer`: reads requests (head, then a Content-Length or chunked body),
/// answers each in order, keeps the connection alive unless the client or an error says otherwise. A deferred
/// route's request holds the connection in `.waiting` until its `Responder` answers: pipelined requests behind it
/// wait in `pending`, so answers keep their order.
///
/// A connection that starts with the HTTP/2 preface is h2c with prior knowledge (gRPC): a `GRPCSession` takes
/// its bytes from then on (SPEC §10's rule for the gateway's plaintext listeners, applied to the backends).
///
/// The event loop retains the connection through its registration; `close()` drops that and the object goes.
/// Everything runs on the loop thread.
final class ServiceConnection: EventHandler {
    /// Where in the current request we are.
    enum Phase {
        case head
        case body(remaining: Int)
        case chunked
        /// A final response is queued; close once it is written.
        case closing
        /// A deferred handler has the current request; its answer has not come yet.
        case waiting
        /// HTTP/2: every byte goes to `session`.
        case http2
    }

    unowned let server: ServiceServer
    private var registration = Registration.none
    private var phase = Phase.head
    private var parser: RequestParser
    private let headers: UnsafeMutableBufferPointer<HTTPHeaderField>
    /// Received bytes not yet consumed by the parser.
    var pending: [UInt8] = []
    private var outbox: [UInt8] = []
    private var outOffset = 0
    private var timer = LazyTimer()
    private var closed = false
    /// Reading stopped because the client is not reading our responses (back-pressure); resumed by `flush`.
    private var readPaused = false
    /// Unsent response bytes above which we stop reading more requests.
    static let maxUnsentBytes = 1 << 20
    /// The request whose body is being read.
    var current: Request?
    var currentKeepAlive = true
    var currentStartedNs: Int64 = 0
    var decoder = ChunkedDecoder()
    /// Whether a request head was parsed on this connection (only the first bytes may be the h2 preface).
    private var sawRequest = false
    /// The h2c side, once the preface arrived.
    private var session: GRPCSession?
    /// `dispatch` is running: a response that arrives now is queued by it, not by the responder's callback.
    private var dispatching = false
    /// The client shut down its side: no more requests will come.
    private var peerClosed = false
    /// epoll reported the client's FIN: a short read no longer means drained, the end is still to be read
    /// (edge-triggered, nothing announces it again).
    private var hangupSeen = false

    init(server: ServiceServer, fd: Int32) throws(SystemError) {
        self.server = server
        parser = RequestParser(limits: HTTPLimits(maxHeaderBytes: server.limits.maxHeaderBytes))
        headers = .allocate(capacity: 100)
        headers.initialize(repeating: .empty)
        registration = try server.loop.register(fd: fd, handler: self)
        server.connections += 1
        touch()
    }

    deinit { headers.deallocate() }

    func handleEvents(_ events: IOEvents) {
        guard !closed else { return }
        if events.contains(.writable) || events.contains(.error) { flush() }
        guard !closed else { return }
        if !events.intersection([.readHangup, .hangup]).isEmpty { hangupSeen = true }
        if !events.intersection([.readable, .readHangup, .hangup, .error]).isEmpty { readAll() }
    }

    func handleTimer(nowMs: Int64) {
        guard !closed, timer.fired(nowMs: nowMs, loop: server.loop, registration: registration) else { return }
        close()
    }

    private func touch() {
        timer.set(server.loop.nowMs + server.limits.idleTimeoutMs, loop: server.loop, registration: registration)
    }

    // MARK: - Reading

    /// Reads until the kernel has nothing more (a short read means drained), processing as bytes arrive.
    private func readAll() {
        let scratch = server.readBuffer
        while !closed {
            if outbox.count - outOffset > Self.maxUnsentBytes || waitingAndFull {
                readPaused = true
                return
            }
            let result: IOResult<Int>
            do {
                result = try Posix.read(registration.fd, scratch.baseAddress!, scratch.count)
            } catch {
                close()
                return
            }
            guard case .processed(let count) = result else { return }
            if count == 0 {
                // Peer closed its side: answer what is complete, then close once written (while a deferred
                // answer is awaited, `resume` does this once it came).
                peerClosed = true
                process()
                if case .waiting = phase {} else if case .closing = phase {} else { phase = .closing }
                flush()
                return
            }
            touch()
            let bytes = UnsafeRawBufferPointer(rebasing: scratch[0..<count])
            if let session {
                session.received(bytes)
                pushSessionOutput()
            } else {
                pending.append(contentsOf: bytes)
                process()
            }
            if count < scratch.count && !hangupSeen { return }
        }
    }

    /// Consumes as many complete requests from `pending` as possible.
    func process() {
        while !closed {
            switch phase {
            case .closing:
                pending.removeAll()
                return
            case .waiting, .http2:
                return
            case .head:
                if !sawRequest {
                    guard let isHTTP2 = startsWithPreface() else { return }
                    if isHTTP2 { return startHTTP2() }
                }
                guard parseHead() else { return }
            case .body(let remaining):
                guard pending.count >= remaining else { return }
                current?.body = Array(pending[0..<remaining])
                pending.removeFirst(remaining)
                dispatch()
            case .chunked:
                guard decodeChunks() else { return }
            }
        }
    }

    /// Parses one head from `pending`; false when more bytes are needed (or the connection is closing).
    private func parseHead() -> Bool {
        guard !pending.isEmpty else { return false }
        let result = pending.withUnsafeBytes { parser.parse($0, headers: headers) }
        switch result {
        case .incomplete:
            return false
        case .invalid(let error):
            let code = error.status == 431 ? "headers_too_large" : error.status == 414 ? "uri_too_long" : "bad_request"
            finish(
                server.rejected(HTTPError(status: error.status, code: code, detail: "malformed request: \(error)")),
                keepAlive: false,
                head: false
            )
            return false
        case .complete(let head):
            sawRequest = true
            return begin(head)
        }
    }

    /// Sets up body reading for a parsed head; dispatches at once when there is no body.
    private func begin(_ head: RequestHead) -> Bool {
        currentStartedNs = WallClock.monotonicNanoseconds()
        current = pending.withUnsafeBytes { RequestBuilder.request(head, buffer: $0, fields: headers) }
        currentKeepAlive = head.keepAlive
        pending.removeFirst(head.headLength)
        switch head.framing {
        case .none, .untilClose, .contentLength(0):
            dispatch()
        case .contentLength(let length):
            guard length <= server.limits.maxBodyBytes else {
                tooLarge()
                return false
            }
            phase = .body(remaining: length)
            if head.expectContinue && pending.count < length { sendContinue() }
        case .chunked:
            decoder.reset()
            phase = .chunked
            if head.expectContinue && pending.isEmpty { sendContinue() }
        }
        return true
    }

    /// RFC 9110 §10.1.1: the client waits for this interim response before sending the body.
    private func sendContinue() {
        queue(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
        flush()
    }

    /// Feeds `pending` to the chunked decoder; true once the body is complete and dispatched.
    private func decodeChunks() -> Bool {
        guard !pending.isEmpty else { return false }
        var body = current?.body ?? []
        var overflow = false
        let limit = server.limits.maxBodyBytes
        let scan = pending.withUnsafeBytes { raw in
            decoder.decode(raw) { data in
                if body.count + data.count > limit { overflow = true } else { body.append(contentsOf: data) }
            }
        }
        current?.body = body
        if overflow {
            tooLarge()
            return false
        }
        switch scan {
        case .needMore:
            pending.removeAll(keepingCapacity: true)
            return false
        case .invalid(let error):
            finish(server.rejected(.badRequest("malformed chunked body: \(error)")), keepAlive: false, head: false)
            return false
        case .done(let consumed):
            pending.removeFirst(consumed)
            dispatch()
            return true
        }
    }

    private func tooLarge() {
        let limit = server.limits.maxBodyBytes
        finish(server.rejected(.payloadTooLarge("request body is over \(limit) bytes")), keepAlive: false, head: false)
    }

    private func dispatch() {
        guard let request = current else { return }
        current = nil
        phase = .waiting
        dispatching = true
        server.respond(to: request, startedNs: currentStartedNs) { [weak self] response in
            guard let self, !self.closed else { return }
            self.finish(response, keepAlive: self.currentKeepAlive, head: request.method == "HEAD")
            // A late answer: the requests that waited behind it go on now (an answer during `dispatch` is
            // followed by `process`'s own loop).
            if !self.dispatching { self.resume() }
        }
        dispatching = false
    }

    /// After a deferred answer: process pipelined requests, and read again if reading was paused for it.
    private func resume() {
        process()
        if peerClosed {
            // Everything complete is answered (or another deferred answer is awaited): nothing more will come.
            if case .waiting = phase {} else if !closed {
                phase = .closing
                flush()
            }
            return
        }
        if readPaused && !closed {
            readPaused = false
            readAll()
        }
    }

    /// Waiting on a deferred answer with this much unprocessed input: stop reading (a client cannot make us
    /// buffer without bound by pipelining behind a slow request).
    private var waitingAndFull: Bool {
        guard case .waiting = phase else { return false }
        return pending.count > server.limits.maxBodyBytes + server.limits.maxHeaderBytes
    }

    // MARK: - HTTP/2

    /// Whether `pending` begins with the h2 preface: nil while what arrived is a prefix of it.
    private func startsWithPreface() -> Bool? {
        let preface = GRPCSessionPreface.bytes
        let n = min(pending.count, preface.count)
        for i in 0..<n where pending[i] != preface[i] { return false }
        return n == preface.count ? true : nil
    }

    private func startHTTP2() {
        let session = GRPCSession(server: server)
        self.session = session
        phase = .http2
        let bytes = pending
        pending = []
        bytes.withUnsafeBytes { session.received($0) }
        pushSessionOutput()
    }

    /// Writes what the session queued; closes once a finished session's output is out.
    private func pushSessionOutput() {
        guard let session else { return }
        let output = session.takeOutput()
        if !output.isEmpty { queue(output) }
        if session.isClosed { phase = .closing }
        flush()
    }

    /// Queues a response; without keep-alive the connection closes once it is written.
    private func finish(_ response: Response, keepAlive: Bool, head: Bool) {
        queue(response.serialized(close: !keepAlive, headRequest: head))
        phase = keepAlive ? .head : .closing
        flush()
    }

    // MARK: - Writing

    private func queue(_ bytes: [UInt8]) {
        if outOffset == outbox.count {
            outbox.removeAll(keepingCapacity: true)
            outOffset = 0
        }
        outbox += bytes
    }

    /// Writes what the socket takes; a partial write waits for EPOLLOUT (edge-triggered, registered once).
    private func flush() {
        while outOffset < outbox.count {
            let result: IOResult<Int>
            do {
                result = try outbox.withUnsafeBytes { raw in
                    try Posix.write(registration.fd, raw.baseAddress! + outOffset, raw.count - outOffset)
                }
            } catch {
                close()
                return
            }
            guard case .processed(let written) = result else { return }
            outOffset += written
        }
        if case .closing = phase {
            close()
        } else if readPaused {
            // Edge-triggered: bytes left unread will not be announced again, so read them now.
            readPaused = false
            readAll()
        }
    }

    private func close() {
        guard !closed else { return }
        closed = true
        server.connections -= 1
        server.loop.close(registration)
    }
}
