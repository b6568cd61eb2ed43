import CLinux
import MeshConfig
import MeshEventLoop
import MeshHTTP1
import MeshProxy
import MeshResilience
import MeshTrace

/// Attempts, retries, breakers and fallbacks (SPEC §3): one place decides how an exchange continues after
/// each attempt, like Envoy's retry state next to pingora's `fail_to_proxy`.
extension DownstreamConnection {
    // MARK: - Starting an attempt

    /// Picks an endpoint (balancer, health, breaker), builds the upstream head and connects.
    ///
    /// - Parameter first: the head just parsed (first attempt); later attempts re-parse it from the buffer.
    func startAttempt(first: (view: RequestView, pathLength: Int)?) {
        guard let route = exchange.route, let target = exchange.target else { return }
        let now = worker.loop.nowMs
        exchange.backingOff = false
        if now >= exchange.deadlineMs {
            finalFailure(.timeout)
            return
        }
        let avoid = exchange.attempts > 0 ? exchange.endpointIndex : nil
        guard let index = target.pick(avoiding: avoid, nowMs: now, random: worker.random.next()) else {
            // A retry that finds every breaker open ends with the last attempt's outcome (SPEC §3).
            if let last = exchange.lastFailure { finalFailure(last) } else { circuitOpen() }
            return
        }
        let admission = target.states[index].breaker.admit(nowMs: now)
        if let transition = admission.transition {
            listener.generation.processTelemetry.breakerTransition(
                upstream: target.index, endpoint: index, to: transition.to)
        }
        guard let ticket = admission.ticket else {
            // Half-open with its probes taken: no attempt now (a retry ends with the last outcome).
            if let last = exchange.lastFailure { finalFailure(last) } else { circuitOpen() }
            return
        }
        exchange.ticket = ticket
        exchange.endpointIndex = index
        exchange.attempts += 1
        exchange.attemptStartNs = clinux_monotonic_ns()
        armAttemptDeadline(route, now: now)
        let endpoint = target.pools[index]
        toUpstream.reset(pool: worker.pool)
        if let error = writeUpstreamHead(first: first, route: route, endpoint: endpoint) {
            // Nothing has been sent: the body must never follow a head that was not written whole (SPEC §4).
            respond(error, close: true)
            return
        }
        if exchange.bodyCount > 0 || exchange.bodyEndsWithCRLF, let base = buffer.base {
            toUpstream.queueBody(
                UnsafeRawBufferPointer(start: base + exchange.bodyOffset, count: exchange.bodyCount),
                thenCRLF: exchange.bodyEndsWithCRLF)
        }
        connectUpstream(endpoint)
    }

    /// The attempt's deadline: `per_try_timeout_ms` within `timeout_ms`; while the client is still sending
    /// the body, the idle timeout governs instead (the route timeout starts once the request is complete).
    func armAttemptDeadline(_ route: CompiledRoute, now: Int64) {
        if let perTry = route.config.perTryTimeoutMs {
            exchange.attemptDeadlineMs = min(exchange.deadlineMs, now + Int64(perTry))
        } else {
            exchange.attemptDeadlineMs = exchange.deadlineMs
        }
        if exchange.request.done {
            setDeadline(exchange.attemptDeadlineMs)
        } else {
            setDeadline(now + Int64(worker.config.source.limits.idleTimeoutMs))
        }
    }

    /// Builds the upstream head for this attempt into `toUpstream`; the error to answer when it cannot be
    /// (nothing is queued then).
    private func writeUpstreamHead(
        first: (view: RequestView, pathLength: Int)?, route: CompiledRoute, endpoint: EndpointPool
    ) -> GatewayError? {
        if let first {
            return writeHead(first.view, pathLength: first.pathLength, route: route, endpoint: endpoint)
        }
        guard let base = buffer.base else { return .badRequest }
        var parser = RequestParser(limits: worker.limits)
        let bytes = UnsafeRawBufferPointer(
            start: base + exchange.headOffset, count: buffer.capacity - exchange.headOffset)
        guard case .complete(let head) = parser.parse(bytes, headers: worker.headers) else { return .badRequest }
        let view = RequestView(buffer: bytes, headers: worker.headers, head: head)
        guard let pathLength = normalizedPath(view) else { return .badRequest }
        return writeHead(view, pathLength: pathLength, route: route, endpoint: endpoint)
    }

    /// Writes the head; `.headersTooLarge` when it does not fit whole (the rewritten head of a request near
    /// `max_header_bytes` can outgrow it), in which case nothing is committed.
    private func writeHead(_ view: RequestView, pathLength: Int, route: CompiledRoute, endpoint: EndpointPool)
        -> GatewayError?
    {
        let path = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(worker.pathScratch)[0..<pathLength])
        let trace = decideTrace(view)
        exchange.traceID = trace.traceParent.traceID
        exchange.sampled = trace.traceParent.sampled
        if trace.continued, let incoming = view.firstValue(of: .traceparent) {
            exchange.parentSpan = TraceParent.parse(incoming)?.parentID ?? SpanID(0)
        }
        let remaining =
            exchange.deadlineMs == .max
            ? route.config.timeoutMs : Int(exchange.deadlineMs - worker.loop.nowMs)
        return withUnsafeTemporaryAllocation(byteCount: TraceParent.length, alignment: 1) { traceparent in
            _ = trace.traceParent.format(into: traceparent)
            let tracestate = UnsafeRawBufferPointer(
                start: worker.traceScratch.baseAddress, count: trace.traceStateLength ?? 0)
            let clientCert = tls?.forwardedClientCert ?? []
            return requestID.withUnsafeBytes { id in
                claimLines.withUnsafeBytes { claims in clientCert.withUnsafeBytes { cert in
                    var context = RequestHeadBuilder.Context(
                        clientIP: clientIP, endpointAuthority: endpoint.authority, deadlineMs: remaining,
                        traceparent: UnsafeRawBufferPointer(traceparent), tracestate: tracestate, requestID: id,
                        extraLines: claims)
                    context.secure = tls != nil
                    context.clientCert = cert
                    let space = toUpstream.headSpace(from: worker.pool)
                    var w = HeadWriter(space)
                    RequestHeadBuilder.write(
                        view, route: route, normalizedPath: path, context: context, tunnel: exchange.upgrade, into: &w)
                    guard !w.overflowed else { return GatewayError.headersTooLarge }
                    toUpstream.commitHead(w.count)
                    return nil
                } }
            }
        }
    }

    /// W3C trace context (SPEC §5): continue a valid incoming trace with our span, else start one.
    private func decideTrace(_ view: RequestView) -> OutgoingTrace {
        let headers = (0..<view.head.headerCount).lazy
        return TracePropagation.decide(
            traceparentLines: headers.filter { view.headers[$0].known == .traceparent }.map { view.value($0) },
            tracestateLines: headers.filter { view.headers[$0].known == .tracestate }.map { view.value($0) },
            newSpan: exchange.spanID, newTrace: exchange.traceID,
            sampleRatio: worker.config.source.tracing.sampleRatio, sampleRandom: exchange.sampleRandom,
            traceStateOut: worker.traceScratch)
    }

    // MARK: - Ending an attempt

    /// Books the attempt's outcome with the endpoint's breaker and telemetry, and frees its retry slot.
    func recordAttempt(_ outcome: AttemptOutcome, status: Int = 0) {
        guard exchange.endpointIndex >= 0, let target = exchange.target else { return }
        let i = exchange.endpointIndex
        if let ticket = exchange.ticket {
            exchange.ticket = nil
            let now = worker.loop.nowMs
            if let transition = target.states[i].breaker.record(ticket, success: outcome == .success, nowMs: now) {
                listener.generation.processTelemetry.breakerTransition(
                    upstream: target.index, endpoint: i, to: transition.to)
            }
        }
        let endNs = clinux_monotonic_ns()
        let seconds = Double(endNs - exchange.attemptStartNs) / 1e9
        telemetry.attemptFinished(upstream: target.index, endpoint: i, outcome: outcome, durationSeconds: seconds)
        if telemetry.spanExportEnabled && exchange.sampled {
            _ = exchange.attemptSpans.append(
                OTLPAttempt(
                    upstream: target.index, endpoint: i, startNs: exchange.attemptStartNs, endNs: endNs, status: status,
                    outcome: outcome))
        }
        if exchange.holdsRetryBudget {
            target.budget.endRetry()
            exchange.holdsRetryBudget = false
        }
    }

    /// Gives up the attempt without judging the endpoint (the client, not the upstream, ended it).
    func abandonAttempt() {
        if let upstream { releaseUpstream(upstream, reusable: false) }
        if let ticket = exchange.ticket, exchange.endpointIndex >= 0 {
            exchange.target?.states[exchange.endpointIndex].breaker.abandon(ticket)
        }
        exchange.ticket = nil
        if exchange.holdsRetryBudget {
            exchange.target?.budget.endRetry()
            exchange.holdsRetryBudget = false
        }
    }

    /// The attempt ended without a usable response head.
    func attemptFailed(_ failure: AttemptFailure) {
        let stale = failure == .reset && (upstream?.served ?? 0) > 1 && (upstream?.buffer.isEmpty ?? true)
        if let upstream { releaseUpstream(upstream, reusable: false) }
        if stale && exchange.replayable && exchange.method.isIdempotent {
            // A reused keep-alive connection the upstream had already closed: not the endpoint's fault and
            // nothing reached it, so send again at once without counting an attempt.
            abandonAttempt()
            exchange.attempts -= 1
            startAttempt(first: nil)
            return
        }
        recordAttempt(AttemptOutcome(failure))
        exchange.lastFailure = failure
        if retry(after: failure) { return }
        finalFailure(failure)
    }

    /// Starts another attempt (now or after a back-off) when `RetryState` says so.
    func retry(after failure: AttemptFailure) -> Bool {
        guard let route = exchange.route, let target = exchange.target else { return false }
        return retry(retryDecision(after: failure, route: route, target: target), route: route, target: target)
    }

    private func retry(_ decision: RetryState.Decision, route: CompiledRoute, target: UpstreamRuntime) -> Bool {
        guard case .retry(let atMs) = decision, target.budget.tryBeginRetry() else { return false }
        exchange.holdsRetryBudget = true
        telemetry.retried(listener: listener.listenerIndex, route: route.index)
        if atMs <= worker.loop.nowMs {
            startAttempt(first: nil)
        } else {
            exchange.backingOff = true
            setDeadline(atMs)
        }
        return true
    }

    /// SPEC §3's retry decision for this exchange now (the budget is looked at, not taken).
    private func retryDecision(after failure: AttemptFailure, route: CompiledRoute, target: UpstreamRuntime)
        -> RetryState.Decision
    {
        let now = worker.loop.nowMs
        let state = RetryState(
            attempts: exchange.attempts, idempotent: exchange.method.isIdempotent, replayable: exchange.replayable,
            responseStarted: exchange.responseStarted, deadlineMs: exchange.deadlineMs)
        return state.decide(
            after: failure, policy: route.retryPolicy, nowMs: now, budgetAvailable: target.retryAvailable,
            endpointAvailable: target.hasEligibleEndpoint(nowMs: now), random: worker.random.next())
    }

    /// No attempt is left: answer with the route's fallback if it covers the reason, else the gateway error.
    func finalFailure(_ failure: AttemptFailure) {
        switch failure {
        case .connectFailure:
            if !serveFallback(.connectFailure) { respond(.badGateway, close: false) }
        case .timeout:
            if !serveFallback(.timeout) { respond(.gatewayTimeout, close: false) }
        case .reset, .status:
            if !serveFallback(.fiveXX) { respond(.badGateway, close: false) }
        }
    }

    /// Every eligible endpoint's breaker is open (or unhealthy): fail fast without touching the upstream.
    func circuitOpen() {
        if !serveFallback(.circuitOpen) { respond(.unavailable, close: false) }
    }

    /// A response head arrived. Returns false when it was consumed here (a retry or a fallback replaced it).
    func responseHeadArrived(status: Int) -> Bool {
        let outcome = AttemptOutcome(status: status)
        recordAttempt(outcome, status: status)
        guard outcome == .http5xx || exchange.route?.retryPolicy.statuses.contains(status) == true else { return true }
        if let up = upstream, let route = exchange.route, let target = exchange.target {
            let decision = retryDecision(after: .status(status), route: route, target: target)
            if case .retry = decision {
                // The budget was just seen available on this thread, so the retry is taken: the head is dropped.
                releaseUpstream(up, reusable: false)
                _ = retry(decision, route: route, target: target)
                return false
            }
        }
        if outcome == .http5xx, exchange.route?.fallback?.covers(.fiveXX) == true, let up = upstream {
            releaseUpstream(up, reusable: false)
            return !serveFallback(.fiveXX)
        }
        return true
    }

    /// Answers with the route's configured fallback when it covers `reason`.
    func serveFallback(_ reason: FallbackOn) -> Bool {
        guard let route = exchange.route, let fallback = route.fallback, fallback.covers(reason) else { return false }
        if let upstream { releaseUpstream(upstream, reusable: false) }
        toUpstream.reset(pool: worker.pool)
        toClient.reset(pool: worker.pool)
        let closing = !exchange.request.done || !exchange.clientKeepAlive || peerClosed || worker.draining
        var w = HeadWriter(toClient.headSpace(from: worker.pool))
        fallback.head.withUnsafeBytes { w.write($0) }
        w.write("x-request-id: ")
        requestID.withUnsafeBytes { w.write($0) }
        w.write("\r\n")
        ResponseHeadBuilder.writePersistence(persistence(closing: closing), into: &w)
        guard !w.overflowed else {
            // Configured headers larger than a head block: a part of a head is never sent, a gateway error is.
            respond(.badGateway, close: false)
            return true
        }
        toClient.commitHead(w.count)
        // The body is queued apart from the head, from the route's storage (the exchange holds the route until
        // it is written), so a body of any size goes out whole. A HEAD request gets the length, not the body.
        let body = exchange.method == .head ? 0 : fallback.body.count
        if body > 0 { toClient.queueBody(fallback.body.bytes) }
        exchange.status = fallback.status
        exchange.bytesOut = body
        telemetry.fallbackServed(listener: listener.listenerIndex, route: route.index, reason: reason)
        exchange.responseStarted = true
        exchange.closeAfter = closing
        phase = closing ? .closing : .proxying
        if closing { flushAndClose() } else { pumpResponse() }
        return true
    }
}
