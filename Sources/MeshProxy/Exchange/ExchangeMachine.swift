import MeshConfig
import MeshHTTP1
import MeshResilience

/// One request/response exchange as a state machine without I/O (SPEC §3–§4): the driver feeds it what
/// happened, with the loop's `now` in milliseconds, and performs the `ExchangeAction` it returns. The machine
/// owns the exchange's state, its deadlines and the one timer the driver arms (`timerMs`), the body cursors,
/// and every retry, fallback and error decision; bytes, sockets, pools and breakers stay with the driver.
public struct ExchangeMachine: Sendable {
    public private(set) var state: State = .routing
    /// When the driver must call `timerFired` (loop milliseconds); `.max` when no timer is wanted.
    public private(set) var timerMs: Int64 = .max
    public private(set) var route: CompiledRoute?
    public private(set) var attempts = 0
    /// How the previous attempt failed (the answer when no retry follows).
    public private(set) var lastFailure: AttemptFailure?
    /// The route's deadline: `timeout_ms` from when the request was complete, across all tries.
    public private(set) var deadlineMs: Int64 = .max
    /// The attempt's deadline: `per_try_timeout_ms` within `deadlineMs`.
    public private(set) var attemptDeadlineMs: Int64 = .max
    /// The whole request (head and ≤ 64 KiB of body) is in the client buffer, so it can be sent again.
    public private(set) var replayable = false
    /// Some of the response (the upstream's head, a fallback, an error) went to the client.
    public private(set) var responseStarted = false
    /// The body bytes that came with the head, as the first attempt (and every replay) sends them.
    public private(set) var bufferedBody = BodyCursor.RequestStep(consumed: 0, forward: 0, endsBody: false)
    public var request = BodyCursor()
    public var response = BodyCursor()
    /// The request is a gRPC call (SPEC §10): its HTTP status never matches `5xx`/`gateway-error`, a
    /// Trailers-Only `grpc-status` may be retried, and it is answered with gRPC errors, never the route's fallback.
    public private(set) var grpc = false
    /// The call's own deadline from `grpc-timeout` (loop milliseconds), from its head on; `.max` without one.
    public private(set) var callDeadlineMs: Int64 = .max
    /// A REST request the gateway turned into a gRPC call (`grpc_transcode`): the upstream side is gRPC's
    /// (`grpc`), but the client reads HTTP answers, so the route's fallback applies and errors are JSON.
    public private(set) var transcoded = false
    /// The upstream stopped reading the request and may have answered early: the rest of the body is not
    /// forwarded, and the client connection closes after the response (its unread bytes cannot be a next request).
    public private(set) var requestAbandoned = false
    let idempotent: Bool
    let limits: Limits

    public init(method: HTTPMethod, framing: BodyFraming, limits: Limits) {
        idempotent = method.isIdempotent
        self.limits = limits
        request.begin(framing)
    }

    /// The machine of a connection between requests, or of an answer to bytes that never became a request:
    /// nothing to decide, SPEC §3's default idle timeout for the answer.
    public init() {
        // What `init(method: .get, framing: .none, …)` makes, without running it: every idle connection's and
        // every returned exchange state's machine is this one (a fresh `BodyCursor` is a finished empty body).
        idempotent = true
        limits = Limits(idleTimeoutMs: 60_000, maxBodyBytes: 0)
    }

    // MARK: - Before the first attempt

    /// The request matched `route` (its fallback and retry policy apply from now on).
    public mutating func routed(to route: CompiledRoute) {
        self.route = route
    }

    /// The request is a gRPC call; `timeoutMs` is its parsed `grpc-timeout` (the deadline becomes the earlier
    /// of it and the route's `timeout_ms`).
    public mutating func grpcCall(timeoutMs: Int?, now: Int64) {
        grpc = true
        if let timeoutMs { callDeadlineMs = .deadline(now, plusMs: timeoutMs) }
    }

    /// The request is sent as a gRPC call made from a REST request (`grpc_transcode`).
    public mutating func transcodedCall() {
        grpc = true
        transcoded = true
    }

    /// The request in the client buffer was replaced (by its gRPC call): its body is read with `framing`.
    public mutating func requestRewritten(framing: BodyFraming) {
        request = BodyCursor()
        request.begin(framing)
    }

    /// A transcoded request waits for the rest of its body, for at most the idle timeout (then 408).
    public mutating func awaitBody(now: Int64) {
        state = .awaitingBody
        timerMs = .deadline(now, plusMs: limits.idleTimeoutMs)
    }

    /// More of the body came: the driver looks again (on `.routing`).
    public mutating func bodyArrived() {
        state = .routing
        timerMs = .max
    }

    /// `timeout_ms` from now, within the call's own deadline.
    private func routeDeadline(now: Int64, _ route: CompiledRoute) -> Int64 {
        min(callDeadlineMs, .deadline(now, plusMs: route.config.timeoutMs))
    }

    /// The JWT stage parked the request until its provider's keys are refetched; the route's `timeout_ms`
    /// bounds the wait.
    public mutating func awaitKeys(now: Int64) {
        guard let route else { return }
        state = .awaitingKeys
        deadlineMs = routeDeadline(now: now, route)
        timerMs = deadlineMs
    }

    /// The keys came: the driver judges the token again (on `.routing`) and admits or answers.
    public mutating func keysArrived() {
        state = .routing
    }

    /// A global limit waits for the store's reservation, at most `storeTimeoutMs` (the store's own timeout
    /// answers first; this bounds the wait if it does not).
    public mutating func awaitLimit(now: Int64, storeTimeoutMs: Int) {
        state = .awaitingLimit
        timerMs = .deadline(now, plusMs: storeTimeoutMs)
    }

    /// The reservation answered (or failed): the driver judges the limit again.
    public mutating func limitArrived() {
        state = .routing
    }

    /// Routing and the JWT stage let the request through: take the body bytes that came with the head.
    ///
    /// - Parameters:
    ///   - declaredLength: the `content-length`, if any (over `max_body_bytes` is 413 before any byte).
    ///   - buffered: the bytes after the head in the client buffer; `bufferedBody` says how many are body.
    ///   - expectContinue: the client sent `Expect: 100-continue`.
    public mutating func admit(
        declaredLength: Int?, buffered: UnsafeRawBufferPointer, expectContinue: Bool, now: Int64
    ) -> ExchangeAction {
        guard let route else { return .fail(.noRoute, close: !request.done) }
        if let declaredLength, declaredLength > limits.maxBodyBytes {
            return .fail(.payloadTooLarge, close: true)
        }
        guard case .success(let step) = request.takeRequest(buffered) else {
            return .fail(.badRequest, close: true)
        }
        // A chunked body has no length up front: its buffered part counts against the limit too.
        guard request.total <= limits.maxBodyBytes else { return .fail(.payloadTooLarge, close: true) }
        bufferedBody = step
        replayable = request.done && step.consumed <= RetryPolicy.maxBufferedBodyBytes
        // min: a request that waited for keys has already used part of its route timeout.
        if request.done { deadlineMs = min(deadlineMs, routeDeadline(now: now, route)) }
        // RFC 9110 §10.1.1: we will read the body, so tell a client that waits for it to send it (one that
        // already sent some of it is not waiting).
        return .startAttempt(sendContinue: expectContinue && !request.done && buffered.isEmpty)
    }

    // MARK: - Attempts

    /// Nil when an attempt may start now; else the answer (the route's deadline has passed).
    @inlinable
    public func attemptRefused(now: Int64) -> ExchangeAction? {
        now >= deadlineMs ? timedOut() : nil
    }

    /// Out of line: inlined into the driver, the check above reads two fields where a call copied the machine
    /// (six references retained and released) to pass it.
    @usableFromInline
    func timedOut() -> ExchangeAction { finalAnswer(.timeout) }

    /// No endpoint can take the attempt (every breaker open, none healthy, or half-open probes taken).
    public func noEndpoint() -> ExchangeAction {
        // A retry that finds every breaker open ends with the last attempt's outcome (SPEC §3).
        if let lastFailure { return finalAnswer(lastFailure) }
        return fallbackOrError(.circuitOpen, .unavailable)
    }

    /// An endpoint took the attempt.
    public mutating func attemptStarted(now: Int64) {
        attempts += 1
        state = .connecting
        armAttemptDeadline(now: now)
    }

    /// The endpoint's pool is full: wait for a slot within the timer already armed (SPEC §3: up to the route
    /// timeout, then 503).
    public mutating func poolFull() {
        state = .waitingForSlot
    }

    /// A new connection is being made: `connect_timeout_ms` (which covers a TLS handshake) within the attempt.
    public mutating func connecting(now: Int64, connectTimeoutMs: Int) {
        state = .connecting
        timerMs = min(attemptDeadlineMs, .deadline(now, plusMs: connectTimeoutMs))
    }

    /// The attempt has a connection (a new one established, or one from the pool).
    public mutating func connected(now: Int64) {
        state = request.done ? .awaitingHead : .sending
        armAttemptDeadline(now: now)
    }

    /// The attempt's deadline: `per_try_timeout_ms` within `timeout_ms`; while the client is still sending
    /// the body, the idle timeout governs instead (the route timeout starts once the request is complete).
    private mutating func armAttemptDeadline(now: Int64) {
        if let perTry = route?.config.perTryTimeoutMs {
            attemptDeadlineMs = min(deadlineMs, .deadline(now, plusMs: perTry))
        } else {
            attemptDeadlineMs = deadlineMs
        }
        timerMs = request.done ? attemptDeadlineMs : min(callDeadlineMs, .deadline(now, plusMs: limits.idleTimeoutMs))
    }

    /// What is left of the route's deadline (`x-meshgate-deadline-ms`): the whole `timeout_ms` while the
    /// request is still being received.
    @inlinable
    public func remainingMs(now: Int64) -> Int {
        guard deadlineMs != .max else {
            let whole = route?.config.timeoutMs ?? 0
            return callDeadlineMs == .max ? whole : min(whole, Int(max(0, callDeadlineMs - now)))
        }
        return Int(max(0, deadlineMs - now))
    }

    /// How a failed attempt counts, before the driver books it: `resend` when it was a reset on a reused
    /// connection with nothing read (the upstream closed it before our request: nothing reached it, and an
    /// idempotent replayable request goes again at once, uncounted); otherwise the failure to book and feed to
    /// `attemptFailed`. SPEC §10: a stream the h2 upstream never processed is a connect failure, whatever its
    /// reset looks like (safe to send again, even a POST).
    public mutating func attemptEnded(_ failure: AttemptFailure, _ evidence: AttemptEvidence) -> AttemptEnd {
        if failure == .reset && evidence.unprocessed { return .failed(.connectFailure) }
        guard failure == .reset, evidence.reused, evidence.nothingRead, replayable, idempotent else {
            return .failed(failure)
        }
        attempts -= 1
        return .resend
    }

    /// The attempt ended without a usable response head (the driver has booked it): retry, or answer.
    public mutating func attemptFailed<E: RetryEnvironment>(_ failure: AttemptFailure, now: Int64, env: E)
        -> ExchangeAction
    {
        lastFailure = failure
        return retry(after: failure, now: now, env: env) ?? finalAnswer(failure)
    }

    /// A response head arrived (the driver has booked the attempt): forward it, retry, or answer with the
    /// fallback. `env` is only asked when the status is one the route retries.
    public mutating func responseHead<E: RetryEnvironment>(status: Int, grpcStatus: Int? = nil, now: Int64, env: E)
        -> ExchangeAction
    {
        if grpc {
            // A gRPC response's HTTP status is not the call's outcome; a Trailers-Only status may be.
            guard let route, let grpcStatus, route.retryPolicy.covers(.grpcStatus(grpcStatus)) else { return .forward }
            lastFailure = .grpcStatus(grpcStatus)
            return retry(after: .grpcStatus(grpcStatus), now: now, env: env) ?? .forward
        }
        let serverError = (500...599).contains(status)
        guard let route, serverError || route.retryPolicy.statuses.contains(status) else { return .forward }
        lastFailure = .status(status)
        if let retry = retry(after: .status(status), now: now, env: env) { return retry }
        if serverError, route.fallback?.covers(.fiveXX) == true { return .fallback(.fiveXX) }
        return .forward
    }

    /// SPEC §3's retry decision, acted on: the budget is taken and the back-off armed. Nil: no retry.
    private mutating func retry<E: RetryEnvironment>(after failure: AttemptFailure, now: Int64, env: E)
        -> ExchangeAction?
    {
        guard let route else { return nil }
        let decision = RetryState(
            attempts: attempts, idempotent: idempotent, replayable: replayable, responseStarted: responseStarted,
            deadlineMs: deadlineMs
        ).decide(
            after: failure, policy: route.retryPolicy, nowMs: now, budgetAvailable: true,
            endpointAvailable: env.endpointAvailable(nowMs: now), random: env.random())
        guard case .retry(let atMs) = decision, env.takeRetryBudget() else { return nil }
        if atMs <= now { return .retry(now: true) }
        state = .backingOff
        timerMs = atMs
        return .retry(now: false)
    }

    // MARK: - Bodies

    /// What a step of the request body does: forward these bytes, or stop with an action.
    public enum BodyProgress: Sendable, Equatable {
        case forward(BodyCursor.RequestStep)
        case stop(ExchangeAction)
    }

    /// Request body bytes read after the head went upstream (never replayable: the buffer moves on).
    public mutating func requestBody(_ bytes: UnsafeRawBufferPointer, now: Int64) -> BodyProgress {
        replayable = false
        let failure: GatewayError
        switch request.takeRequest(bytes) {
        case .success(let step):
            if request.total <= limits.maxBodyBytes || request.isUntilClose {
                requestProgressed(now: now)
                return .forward(step)
            }
            failure = .payloadTooLarge
        case .failure:
            // SPEC §4: a bad chunk after the head went upstream aborts the upstream connection.
            failure = .badRequest
        }
        return .stop(responseStarted ? .closeClient : .fail(failure, close: true))
    }

    private mutating func requestProgressed(now: Int64) {
        if state == .tunnel {
            timerMs = .deadline(now, plusMs: limits.idleTimeoutMs)
        } else if request.done, !responseStarted, let route {
            // The route timeout runs from the end of the request (as Envoy's does).
            deadlineMs = routeDeadline(now: now, route)
            if state == .sending { state = .awaitingHead }
            armAttemptDeadline(now: now)
        } else if !request.done {
            timerMs = min(callDeadlineMs, .deadline(now, plusMs: limits.idleTimeoutMs))
        }
    }

    /// The response head was forwarded with its framing; a 101 turns the exchange into a tunnel.
    public mutating func responseStarted(framing: BodyFraming, switching: Bool, now: Int64) {
        responseStarted = true
        response.begin(switching ? .untilClose : framing)
        if switching {
            state = .tunnel
            request.begin(.untilClose)
            // A tunnel is closed after `idle_timeout_ms` without bytes either way (nginx's proxy_read_timeout).
            timerMs = .deadline(now, plusMs: limits.idleTimeoutMs)
        } else {
            state = .streaming
            if !response.done { armBodyDeadline(now: now) }
        }
    }

    /// Response bytes came from the upstream.
    public mutating func responseRead(now: Int64) {
        switch state {
        case .streaming: armBodyDeadline(now: now)
        case .tunnel: timerMs = .deadline(now, plusMs: limits.idleTimeoutMs)
        default: break
        }
    }

    /// The upstream closed its side (or reset it) while the exchange used its connection.
    public mutating func upstreamClosed() -> ExchangeAction {
        // No head yet: nothing reached the client, so the attempt failed and may be retried or answered.
        guard responseStarted else { return .abortAttempt(.reset) }
        // Nothing of a transcoded reply was written yet (it is collected whole): the client gets an answer.
        if transcoded && !response.done { return .fail(.badGateway, close: false) }
        // A close-delimited body (or a tunnel's upstream half) ends here. Any other unfinished body is truncated:
        // the client must not take a short message for a whole one.
        return response.peerClosed() ? .proceed : .closeClient
    }

    /// The upstream stopped reading the request before its end. With no response started it may have answered
    /// early (a 413 before the whole body, an error: RFC 9112 §9.6): the rest of the body is dropped and its
    /// answer read (`.proceed`). After the response started there is nothing to wait for.
    public mutating func upstreamStoppedReading() -> ExchangeAction {
        guard !responseStarted else { return .closeClient }
        requestAbandoned = true
        return .proceed
    }

    /// While the response body streams: the idle timeout between reads, within the route's `timeout_ms`
    /// (SPEC §3: the whole request; set a larger `timeout_ms` on routes that stream big downloads).
    private mutating func armBodyDeadline(now: Int64) {
        timerMs = min(deadlineMs, .deadline(now, plusMs: limits.idleTimeoutMs))
    }

    // MARK: - Local answers, the client, the timer

    /// The gateway's own answer (error or fallback) is queued for the client, who has the idle timeout to
    /// take it.
    public mutating func answered(now: Int64) {
        state = .answering
        responseStarted = true
        timerMs = .deadline(now, plusMs: limits.idleTimeoutMs)
    }

    /// The client shut down its sending side: a tunnel passes the half-close on; elsewhere the exchange
    /// can no longer be completed.
    public mutating func clientFinished() -> ExchangeAction {
        guard state == .tunnel else { return .closeClient }
        _ = request.peerClosed()
        return .proceed
    }

    /// The timer (`timerMs`) fired: what it meant follows from the state alone.
    public mutating func timerFired(now: Int64) -> ExchangeAction {
        guard now >= timerMs else { return .proceed }
        switch state {
        case .awaitingKeys: return .keysTimedOut
        case .awaitingLimit: return .limitTimedOut
        case .awaitingBody: return .fail(.requestTimeout, close: true)
        case .backingOff: return .startAttempt(sendContinue: false)
        case .waitingForSlot: return .fail(.unavailable, close: false)
        case .connecting: return .abortAttempt(.connectFailure)
        case .sending:
            // The client stopped sending its body, or a gRPC call's deadline passed while it streamed.
            return .fail(now >= callDeadlineMs ? .gatewayTimeout : .requestTimeout, close: true)
        case .awaitingHead: return .abortAttempt(.timeout)
        // A transcoded reply is collected before anything is written: the client can still get a 504.
        case .streaming where transcoded: return .fail(.gatewayTimeout, close: false)
        case .routing, .streaming, .tunnel, .answering: return .closeClient
        }
    }

    // MARK: - Choosing the answer

    /// The one place that chooses between the route's fallback and the gateway error for a final failure.
    public func finalAnswer(_ failure: AttemptFailure) -> ExchangeAction {
        fallbackOrError(FallbackOn(failure), GatewayError(failure))
    }

    private func fallbackOrError(_ reason: FallbackOn, _ error: GatewayError) -> ExchangeAction {
        // A fallback is an HTTP answer a gRPC client cannot read: a call gets its gRPC error.
        if !grpc || transcoded, route?.fallback?.covers(reason) == true { return .fallback(reason) }
        return .fail(error, close: false)
    }
}
