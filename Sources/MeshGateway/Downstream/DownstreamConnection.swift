import CLinux
import Glibc
import MeshControl
import MeshEventLoop
import MeshHTTP1
import MeshHTTP2
import MeshPosix
import MeshProxy
import MeshTLS

/// One client connection and the exchange in progress on it.
///
/// Phases: `idle` (keep-alive, no bytes) → `readingHead` → `proxying` (an exchange: request and response
/// pumped independently) → back to `idle`, or `tunnel` after a 101, or `closing` (a last response is being
/// written). Everything runs on the worker's thread; readiness is edge-triggered (`ClientTransport` remembers
/// what the kernel last said, and a short read means "drained"). The exchange's decisions are
/// `ExchangeMachine`'s, `Intake`'s and `ResponsePlan`'s; the extensions beside this file perform them by role.
final class DownstreamConnection: EventHandler {
    enum Phase {
        case idle
        case readingHead
        case proxying
        case tunnel
        /// HTTP/2 (h2c prior knowledge): `h2` owns the socket's bytes from now on.
        case http2
        case closing
        /// The last answer (an HTTP/2 GOAWAY for a connection error) is out and FIN sent; what the client still
        /// sends is read and dropped until its FIN or `lingerMs`, then the connection closes.
        case lingering
        case closed
    }

    /// The worker lives as long as the process (its loop runs every handler), so this cannot dangle.
    unowned(unsafe) let worker: Worker
    /// The listener that accepted the connection, held strongly: a reload may remove it while this runs.
    let acceptedOn: Listener
    /// The parser's limits are the worker's of this version (a reload can change them between requests).
    var limitsVersion: Int
    private(set) var registration: Registration
    let clientIP: [UInt8]
    var phase: Phase = .readingHead
    /// The client's socket or pipe, the bytes read from it and the bytes queued for it.
    var client: ClientTransport
    var parser: RequestParser
    var timer = LazyTimer()
    /// The exchange in progress and its bytes, lent by the worker from the first write of a request until
    /// the connection is idle again (`releaseExchange`); nil while idle.
    private(set) var active: ExchangeState?
    /// `active`, or the worker's never-written idle state; kept alive by `active` or the worker.
    private unowned(unsafe) var current: ExchangeState
    var upstream: UpstreamConnection?
    /// The last verified token on this connection (keep-alive clients resend the same one).
    var jwt = JWTStage()
    /// The HTTP/2 session, once the client sent the h2 preface.
    var h2: HTTP2Session?
    /// This connection serves one HTTP/2 stream through its bridge (`HTTP2StreamBridge`).
    var bridged: Bool { client.pipe != nil }
    /// Index in `worker.clients`, -1 once closed.
    var slot = -1
    /// The listener and generation the exchange in progress pinned, else the listener's current binding:
    /// its routes, listener index and telemetry all belong to one config generation.
    var listener: ListenerBinding { withListener { $0 } }
    /// Telemetry of `listener`'s generation (its label indexes match the exchange's route and upstream).
    var telemetry: WorkerTelemetry { withListener { $0.generation.telemetry } }

    /// `listener`, lent to `body` without counting it or what is reached through it: the exchange or the listener
    /// holds the binding meanwhile, the binding its generation and config (each hop was a retain/release pair,
    /// several a request). `body` must not change `exchange.binding`.
    @inline(__always)
    func withListener<R>(_ body: (ListenerBinding) -> R) -> R {
        let binding =
            exchange.binding.map { Unmanaged.passUnretained($0) } ?? Unmanaged.passUnretained(acceptedOn.binding)
        return binding._withUnsafeGuaranteedRef(body)
    }

    convenience init(worker: Worker, listener: Listener, fd: Int32, client: SocketAddress) throws(SystemError) {
        try self.init(
            worker: worker, listener: listener, fd: fd, clientIP: Array(client.ipString.utf8), pipe: nil,
            clientTLS: nil)
    }

    /// - Parameters:
    ///   - fd: the client socket; ignored with a `pipe`.
    ///   - pipe: the far end is an HTTP/2 stream's bridge (same thread, plaintext), not a client socket.
    ///   - clientTLS: for a bridged connection, the TLS session of the h2 connection (the client's identity).
    init(worker: Worker, listener: Listener, fd: Int32, clientIP: [UInt8], pipe: StreamPipe?, clientTLS: TLSStream?)
        throws(SystemError)
    {
        self.worker = worker
        acceptedOn = listener
        self.clientIP = clientIP
        parser = RequestParser(limits: worker.limits)
        limitsVersion = worker.limitsVersion
        let binding = listener.binding
        var deadline = Int64.deadline(worker.loop.nowMs, plusMs: worker.config.source.limits.headerTimeoutMs)
        var tls: TLSStream?
        if pipe == nil, let context = binding.tls, let settings = binding.config.config.tls {
            // The header timeout starts when the handshake is done; until then the handshake timeout runs.
            deadline = .deadline(worker.loop.nowMs, plusMs: settings.handshakeTimeoutMs)
            // Made before the socket is registered: a failure leaves the descriptor to the caller to close.
            guard let connection = try? TLSConnection(server: context, handshakeDeadlineMs: deadline) else {
                throw SystemError(errno: ENOMEM, call: "SSL_new")
            }
            tls = TLSStream(connection, pool: worker.pool)
        }
        client = ClientTransport(tls: tls, pipe: pipe, bridgedTLS: clientTLS)
        current = worker.exchangeStates.idle
        if let pipe {
            registration = .none
            registration = worker.loop.registerVirtual(handler: self)
            pipe.inner = registration
        } else {
            registration = Registration(fd: fd, id: 0)
            registration = try worker.loop.register(fd: fd, handler: self)
        }
        worker.clientOpened(self)
        // A bridged connection is an HTTP/2 stream's, not a client's: the client's connection is counted once.
        if pipe == nil { binding.generation.telemetry.connectionOpened(listener: binding.listenerIndex) }
        setDeadline(deadline)
    }

    var fd: Int32 { registration.fd }

    // MARK: - Per-request state

    /// The exchange in progress. Reading it while idle sees an empty exchange and takes nothing; writing
    /// takes an `ExchangeState` from the worker. Addressors through an unowned(unsafe) reference: fields are
    /// read and written in place, with no copy, coroutine or reference counting per access.
    var exchange: Exchange {
        @inline(__always) unsafeAddress { UnsafePointer(current.exchange) }
        @inline(__always) unsafeMutableAddress { taken.exchange }
    }

    var requestID: [UInt8] {
        @inline(__always) unsafeAddress { UnsafePointer(current.requestID) }
        @inline(__always) unsafeMutableAddress { taken.requestID }
    }

    var claimLines: [UInt8] {
        @inline(__always) unsafeAddress { UnsafePointer(current.claimLines) }
        @inline(__always) unsafeMutableAddress { taken.claimLines }
    }

    /// What goes to the upstream next (the head and body of the attempt in progress).
    var toUpstream: Outbound {
        @inline(__always) unsafeAddress { UnsafePointer(current.toUpstream) }
        @inline(__always) unsafeMutableAddress { taken.toUpstream }
    }

    private var taken: ExchangeState {
        @inline(__always) get {
            if active == nil { takeExchange() }
            return current
        }
    }

    @inline(never)
    private func takeExchange() {
        let state = worker.exchangeStates.take()
        active = state
        current = state
    }

    /// Starts a new exchange at `startNs`. A state taken from the worker is clear already (`ExchangeState.clear`
    /// ran when it was given back): building a second empty exchange cost ~1,000 instructions per request.
    func startExchange(startNs: Int64) {
        if active == nil {
            takeExchange()
            exchange.startNs = startNs
        } else {
            exchange.reset(startNs: startNs)
        }
    }

    /// Gives the exchange's state back to the worker (the connection is idle: nothing of it is read again).
    func releaseExchange() {
        guard let state = active else { return }
        active = nil
        current = worker.exchangeStates.idle
        state.toUpstream.pointee.reset(pool: worker.pool)
        worker.exchangeStates.give(state)
    }

    /// Between requests with nothing received: safe to close when draining.
    var isIdle: Bool { phase == .idle && client.buffer.isEmpty || phase == .http2 && h2?.isIdle == true }

    // MARK: - Events

    func handleEvents(_ events: IOEvents) {
        if limitsVersion != worker.limitsVersion { adoptWorkerLimits() }
        client.note(events)
        // A reset (or both directions gone) while we wait on the upstream: nobody is left to answer, so free
        // the upstream connection now. A FIN alone is a half-close: the client may still read the answer.
        if !events.intersection([.hangup, .error]).isEmpty && (phase == .proxying || phase == .tunnel || phase == .lingering) {
            close()
            return
        }
        drive()
    }

    func upstreamEvent(_ connection: UpstreamConnection) {
        guard connection === upstream else { return }
        drive()
    }

    /// Makes every step that is possible now.
    func drive() {
        // Handshake records (or a last alert) the socket refused earlier.
        if client.tls?.hasPendingOutput == true, client.out.isEmpty, phase != .closed { _ = flushClient() }
        switch phase {
        case .idle, .readingHead:
            readHead()
        case .http2:
            pumpHTTP2()
        case .proxying where exchange.machine.state == .awaitingBody:
            readTranscodedBody()
        case .proxying, .tunnel:
            let before = phase
            pumpRequest()
            pumpResponse()
            // A 101 just turned the exchange into a tunnel: client bytes may already be waiting.
            if before == .proxying && phase == .tunnel { pumpRequest() }
        case .closing:
            flushAndClose()
        case .lingering:
            if !client.discard(fd: fd, pool: worker.pool) { close() }
        case .closed:
            break
        }
    }

    func handleTimer(nowMs: Int64) {
        guard timer.fired(nowMs: nowMs, loop: worker.loop, registration: registration) else { return }
        switch phase {
        case .idle, .http2:
            if let h2, !h2.isIdle {
                setDeadline(.deadline(nowMs, plusMs: worker.config.source.limits.idleTimeoutMs))
                return
            }
            close()
        case .readingHead:
            // A handshake that did not finish in time gets no HTTP answer (there is no channel for one).
            if let tls = client.tls, !tls.connection.isEstablished {
                close()
                return
            }
            respond(.requestTimeout, close: true)
        case .proxying:
            perform(exchange.machine.timerFired(now: nowMs))
        case .tunnel, .closing, .lingering:
            close()
        case .closed:
            break
        }
    }

    func setDeadline(_ ms: Int64) { timer.set(ms, loop: worker.loop, registration: registration) }

    // MARK: - Performing the machine's actions

    /// Does what the exchange machine decided.
    func perform(_ action: ExchangeAction) {
        switch action {
        case .proceed, .forward:
            syncTimer()
        case .startAttempt(let sendContinue):
            if sendContinue { writeContinue() }
            startAttempt(first: nil)
        case .resend:
            abandonAttempt()
            startAttempt(first: nil)
        case .retry(let now):
            exchange.holdsRetryBudget = true
            if let route = exchange.route { telemetry.retried(listener: listener.listenerIndex, route: route.index) }
            if now { startAttempt(first: nil) } else { syncTimer() }
        case .abortAttempt(let failure):
            attemptFailed(failure)
        case .fallback(let reason):
            serveFallback(reason)
        case .fail(let error, let close):
            respond(error, close: close)
        case .keysTimedOut:
            keyWaitExpired()
        case .limitTimedOut:
            limitWaitExpired()
        case .closeClient:
            close()
        }
    }

    /// Arms the connection's timer where the exchange machine wants it.
    @inline(__always)
    func syncTimer() { setDeadline(exchange.machine.timerMs) }

    // MARK: - HTTP/2

    /// The client sent the HTTP/2 preface: from now on the session reads and writes the socket.
    func startHTTP2() {
        releaseExchange()
        phase = .http2
        let limits = worker.config.source.limits
        let h2Limits = HTTP2Limits(
            maxConcurrentStreams: limits.h2.maxConcurrentStreams, initialWindowBytes: limits.h2.initialWindowBytes,
            maxFrameBytes: limits.h2.maxFrameBytes, maxHeaderBytes: limits.maxHeaderBytes)
        h2 = HTTP2Session(owner: self, limits: h2Limits)
        pumpHTTP2()
    }

    func pumpHTTP2() {
        guard let h2 else { return }
        h2.flush()
        var more = true
        while phase == .http2 && more {
            if !client.buffer.isEmpty {
                let bytes = client.buffer.readable
                client.buffer.start = client.buffer.end
                setDeadline(.deadline(worker.loop.nowMs, plusMs: worker.config.source.limits.idleTimeoutMs))
                h2.received(bytes)
            }
            guard phase == .http2, client.readable else { break }
            switch readClient() {
            case .data: more = true
            case .drained: more = false
            case .eof, .failed:
                close()
                return
            }
        }
        // Draining or a removed listener: GOAWAY, then the streams in progress finish.
        if phase == .http2 && (worker.draining || acceptedOn.removed) { h2.windDown() }
        if phase == .http2 { client.buffer.releaseIfEmpty(to: worker.pool) }
    }

    // MARK: - Reading

    typealias ReadOutcome = ClientTransport.ReadOutcome

    /// Reads once into `client.buffer` after its unconsumed bytes (a TLS handshake that completes on the way is
    /// counted and starts the header timeout).
    func readClient() -> ReadOutcome {
        let outcome = client.read(fd: fd, pool: worker.pool, nowMs: worker.loop.nowMs)
        if client.handshakeCompleted {
            client.handshakeCompleted = false
            countHandshake(success: true)
            setDeadline(.deadline(worker.loop.nowMs, plusMs: worker.config.source.limits.headerTimeoutMs))
        }
        return outcome
    }

    /// `meshgate_tls_handshakes_total`: each accepted TLS connection once, success or not.
    private func countHandshake(success: Bool) {
        guard let tls = client.tls, !tls.handshakeCounted else { return }
        tls.handshakeCounted = true
        let binding = acceptedOn.binding
        binding.generation.telemetry.tlsHandshake(listener: binding.listenerIndex, success: success)
    }

    // MARK: - Writing and closing

    /// Flushes `client.out`; false when the socket is full or gone (gone closes the connection).
    func flushClient() -> Bool {
        switch client.flush(fd: fd, pool: worker.pool) {
        case .done:
            return true
        case .blocked:
            return false
        case .failed:
            close()
            return false
        }
    }

    /// How long a closing connection keeps reading what the client still sends (`lingerAndClose`).
    static let lingerMs = 1_000

    /// Closes after an answer the client may not have read while it is still sending: a close with unread bytes
    /// sends a reset, and a reset can destroy the answer in the client's receive queue (nginx's lingering close
    /// answers the same race). FIN goes after the answer; the client's bytes are dropped until its FIN or
    /// `lingerMs`.
    func lingerAndClose() {
        guard phase != .closed, phase != .lingering else { return }
        guard client.pipe == nil, !client.peerClosed else {
            close()
            return
        }
        client.finishSending(fd: fd)
        phase = .lingering
        setDeadline(.deadline(worker.loop.nowMs, plusMs: Self.lingerMs))
        if !client.discard(fd: fd, pool: worker.pool) { close() }
    }

    func flushAndClose() {
        if flushClient() { close() }
    }

    func close() {
        guard phase != .closed else { return }
        if phase == .proxying || phase == .tunnel { abandonAttempt() }
        report()
        countHandshake(success: false)
        let session = h2
        h2 = nil
        phase = .closed
        session?.closeStreams()
        if let upstream { releaseUpstream(upstream, reusable: false) }
        client.close(fd: fd, pool: worker.pool)
        // Back to the worker, not freed: HTTP/2 streams' connections come and go with the streams' sessions, and
        // a new state per connection cost ~2,700 instructions (allocation, initialization, teardown).
        releaseExchange()
        let binding = acceptedOn.binding
        if !bridged { binding.generation.telemetry.connectionClosed(listener: binding.listenerIndex) }
        worker.clientClosed(self)
        worker.loop.close(registration)
    }
}
