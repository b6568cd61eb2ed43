import CLinux
import MeshConfig
import MeshEventLoop
import MeshHTTP1
import MeshOTLP
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
        if let refused = exchange.machine.attemptRefused(now: now) {
            perform(refused)
            return
        }
        guard pickEndpoint(target, now: now) else {
            perform(exchange.machine.noEndpoint())
            return
        }
        exchange.machine.attemptStarted(now: now)
        syncTimer()
        exchange.attemptStartNs = clinux_monotonic_ns()
        let endpoint = target.pools[exchange.endpointIndex]
        toUpstream.reset(pool: worker.pool)
        if let error = writeUpstreamHead(first: first, route: route, endpoint: endpoint) {
            // Nothing has been sent: the body must never follow a head that was not written whole (SPEC §4).
            respond(error, close: true)
            return
        }
        let body = exchange.machine.bufferedBody
        if body.forward > 0 || body.endsBody, let base = client.buffer.base {
            toUpstream.queueBody(
                UnsafeRawBufferPointer(start: base + exchange.bodyOffset, count: body.forward), thenCRLF: body.endsBody)
        }
        connectUpstream(endpoint)
    }

    /// Chooses the attempt's endpoint (avoiding the one that just failed) and takes its breaker's admission;
    /// false when no endpoint can take it.
    private func pickEndpoint(_ target: UpstreamRuntime, now: Int64) -> Bool {
        let avoid = exchange.machine.attempts > 0 ? exchange.endpointIndex : nil
        guard let index = target.pick(avoiding: avoid, nowMs: now, random: worker.random.next()) else { return false }
        let admission = target.states[index].breaker.admit(nowMs: now)
        if let transition = admission.transition {
            listener.generation.processTelemetry.breakerTransition(
                upstream: target.index, endpoint: index, to: transition.to)
        }
        // Half-open with its probes taken: no attempt now.
        guard let ticket = admission.ticket else { return false }
        exchange.ticket = ticket
        exchange.endpointIndex = index
        return true
    }

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

    /// Builds the upstream head for this attempt into `toUpstream`; the error to answer when it cannot be
    /// (nothing is queued then).
    private func writeUpstreamHead(
        first: (view: RequestView, pathLength: Int)?, route: CompiledRoute, endpoint: EndpointPool
    ) -> GatewayError? {
        if let first {
            return writeHead(first.view, pathLength: first.pathLength, route: route, endpoint: endpoint)
        }
        guard let (_, view, pathLength) = bufferedHead() else { return .badRequest }
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
        let remaining = exchange.machine.remainingMs(now: worker.loop.nowMs)
        return withUnsafeTemporaryAllocation(byteCount: TraceParent.length, alignment: 1) { traceparent in
            _ = trace.traceParent.format(into: traceparent)
            let tracestate = UnsafeRawBufferPointer(
                start: worker.traceScratch.baseAddress, count: trace.traceStateLength ?? 0)
            let clientCert = client.clientTLS?.forwardedClientCert ?? []
            return requestID.withUnsafeBytes { id in
                claimLines.withUnsafeBytes { claims in clientCert.withUnsafeBytes { cert in
                    var context = RequestHeadBuilder.Context(
                        clientIP: clientIP, endpointAuthority: endpoint.authority, deadlineMs: remaining,
                        traceparent: UnsafeRawBufferPointer(traceparent), tracestate: tracestate, requestID: id,
                        extraLines: claims)
                    context.secure = client.clientTLS != nil
                    context.clientCert = cert
                    context.grpc = exchange.machine.grpc
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
        // Plain arrays, empty (no allocation) unless the client sent trace fields: the lazy filter-map chains
        // this replaced cost two closure contexts per request.
        var parents: [UnsafeRawBufferPointer] = []
        var states: [UnsafeRawBufferPointer] = []
        for i in 0..<view.head.headerCount {
            let known = view.headers[i].known
            if known == .traceparent {
                parents.append(view.value(i))
            } else if known == .tracestate {
                states.append(view.value(i))
            }
        }
        return TracePropagation.decide(
            traceparentLines: parents, tracestateLines: states,
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
        let telemetry = self.telemetry
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

    /// The attempt ended without a usable response head: book it, then retry or answer as the machine says.
    func attemptFailed(_ failure: AttemptFailure) {
        var failure = failure
        // SPEC §10: a stream the h2 upstream refused (REFUSED_STREAM, or above a GOAWAY's last-stream-id) was
        // never processed, whatever the pair's reset looks like: safe to send again, as a connect failure is.
        if failure == .reset, upstream?.h2Channel?.unprocessed == true { failure = .connectFailure }
        let stale = failure == .reset && (upstream?.served ?? 0) > 1 && (upstream?.buffer.isEmpty ?? true)
        if let upstream { releaseUpstream(upstream, reusable: false) }
        if exchange.machine.resendsAfterStaleConnection(failure, stale: stale) {
            perform(.resend)
            return
        }
        recordAttempt(AttemptOutcome(failure))
        guard let target = exchange.target else { return }
        perform(exchange.machine.attemptFailed(failure, now: worker.loop.nowMs, env: UpstreamRetryEnvironment(target, worker)))
    }

    /// A response head arrived: book the attempt; false when the machine replaced it (a retry or a fallback).
    func responseHeadArrived(status: Int, grpcStatus: Int? = nil) -> Bool {
        recordAttempt(grpcStatus.map(AttemptOutcome.init(grpcStatus:)) ?? AttemptOutcome(status: status), status: status)
        exchange.headLatencyNs = clinux_monotonic_ns() - exchange.startNs
        guard let target = exchange.target else { return true }
        let action = exchange.machine.responseHead(
            status: status, grpcStatus: grpcStatus, now: worker.loop.nowMs, env: UpstreamRetryEnvironment(target, worker))
        guard action != .forward else { return true }
        if let up = upstream { releaseUpstream(up, reusable: false) }
        perform(action)
        return false
    }

    /// Answers with the route's configured fallback (the machine chose it: it covers the reason).
    func serveFallback(_ reason: FallbackOn) {
        guard let route = exchange.route, let fallback = route.fallback else {
            respond(.badGateway, close: false)
            return
        }
        if let upstream { releaseUpstream(upstream, reusable: false) }
        toUpstream.reset(pool: worker.pool)
        client.out.reset(pool: worker.pool)
        let closing = closesAfterLocalAnswer
        var w = HeadWriter(client.out.headSpace(from: worker.pool))
        fallback.head.withUnsafeBytes { w.write($0) }
        w.write("x-request-id: ")
        requestID.withUnsafeBytes { w.write($0) }
        w.write("\r\n")
        ResponseHeadBuilder.writePersistence(persistence(closing: closing), into: &w)
        guard !w.overflowed else {
            // Configured headers larger than a head block: a part of a head is never sent, a gateway error is.
            respond(.badGateway, close: false)
            return
        }
        client.out.commitHead(w.count)
        // The body is queued apart from the head, from the route's storage (the exchange holds the route until
        // it is written), so a body of any size goes out whole. A HEAD request gets the length, not the body.
        let body = exchange.method == .head ? 0 : fallback.body.count
        if body > 0 { client.out.queueBody(fallback.body.bytes) }
        telemetry.fallbackServed(listener: listener.listenerIndex, route: route.index, reason: reason)
        sendLocalAnswer(status: fallback.status, bodyBytes: body, closing: closing)
    }
}

/// The retry decision's view of the upstream, from this worker.
struct UpstreamRetryEnvironment: RetryEnvironment {
    let target: UpstreamRuntime
    unowned(unsafe) let worker: Worker

    init(_ target: UpstreamRuntime, _ worker: Worker) {
        self.target = target
        self.worker = worker
    }

    func endpointAvailable(nowMs: Int64) -> Bool { target.hasEligibleEndpoint(nowMs: nowMs) }
    func takeRetryBudget() -> Bool { target.budget.tryBeginRetry() }
    func random() -> UInt64 { worker.random.next() }
}
