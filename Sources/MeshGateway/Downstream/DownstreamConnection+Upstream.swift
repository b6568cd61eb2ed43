import CLinux
import MeshHTTP1
import MeshPosix
import MeshProxy
import MeshResilience
import MeshTrace

/// The upstream leg of an exchange: attempts (endpoint, head, connection), the request body pumped to the
/// upstream, and how each attempt ends (SPEC §3: retries, breakers, fallbacks, as `ExchangeMachine` decides).
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
        guard exchange.pickEndpoint(target, nowMs: now, random: worker.random.next()) else {
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
        let trace = exchange.propagateTrace(
            view, sampleRatio: worker.config.source.tracing.sampleRatio, traceStateOut: worker.traceScratch)
        // The clock read first: read as the argument, after the machine was borrowed, it made the compiler copy the
        // machine (a getter on a class could have changed it meanwhile).
        let now = worker.loop.nowMs
        let remaining = exchange.machine.remainingMs(now: now)
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

    // MARK: - Ending an attempt

    /// Books the attempt's outcome with the endpoint's breaker and telemetry, and frees its retry slot.
    func recordAttempt(_ outcome: AttemptOutcome, status: Int = 0) {
        exchange.recordAttempt(outcome, status: status, nowMs: worker.loop.nowMs)
    }

    /// Gives up the attempt without judging the endpoint (the client, not the upstream, ended it).
    func abandonAttempt() {
        if let upstream { releaseUpstream(upstream, reusable: false) }
        exchange.abandonAttempt()
    }

    /// The attempt ended without a usable response head: book it, then retry or answer as the machine says.
    func attemptFailed(_ failure: AttemptFailure) {
        var evidence = ExchangeMachine.AttemptEvidence()
        if let upstream {
            evidence = .init(
                unprocessed: upstream.h2Channel?.unprocessed == true, reused: upstream.served > 1,
                nothingRead: upstream.buffer.isEmpty)
            releaseUpstream(upstream, reusable: false)
        }
        guard case .failed(let failure) = exchange.machine.attemptEnded(failure, evidence) else {
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

    // MARK: - Connecting

    /// Takes a pooled connection to `endpoint`, opens a new one, or waits for a slot (`max_connections`).
    func connectUpstream(_ endpoint: EndpointPool) {
        guard phase == .proxying else { return }
        if let idle = endpoint.takeIdle() {
            idle.activate(owner: self)
            upstream = idle
            exchange.machine.connected(now: worker.loop.nowMs)
            syncTimer()
            pumpRequest()
            pumpResponse()
            return
        }
        // A name that has not resolved yet: nothing to connect to, and nothing the endpoint did wrong.
        if endpoint.isUnresolved {
            respond(.unavailable, close: false)
            return
        }
        guard endpoint.canOpen else {
            // SPEC §3: excess requests wait up to the route timeout, then 503.
            exchange.machine.poolFull()
            endpoint.enqueue(self)
            return
        }
        let connection: UpstreamConnection
        switch endpoint.open(for: self) {
        case .opened(let opened):
            connection = opened
        case .endpointFailed:
            attemptFailed(.connectFailure)
            return
        case .localFailure:
            // Answered 503 without judging the endpoint (its breaker is shared by every worker; our descriptor
            // shortage must not open it) and without retrying (a retry would hit the same shortage). Not logged
            // per request: under descriptor exhaustion that would be a log storm; the access log has the 503.
            respond(.unavailable, close: false)
            return
        }
        upstream = connection
        if connection.state == .connecting {
            // connect_timeout_ms covers the TLS handshake too.
            exchange.machine.connecting(now: worker.loop.nowMs, connectTimeoutMs: endpoint.connectTimeoutMs)
        } else {
            exchange.machine.connected(now: worker.loop.nowMs)
        }
        syncTimer()
        pumpRequest()
    }

    /// A slot of a full pool opened up while this exchange was waiting for it.
    func poolSlotFreed(_ endpoint: EndpointPool) {
        guard exchange.machine.state == .waitingForSlot, phase == .proxying else { return }
        connectUpstream(endpoint)
    }

    func releaseUpstream(_ connection: UpstreamConnection, reusable: Bool) {
        upstream = nil
        if reusable && connection.quietForReuse() {
            connection.pool.park(connection, nowMs: worker.loop.nowMs)
        } else {
            connection.pool.released()
            connection.close()
        }
    }

    // MARK: - Request: client → upstream

    /// Sends the upstream head and as much body as is available; reads more body from the client only when
    /// everything before it went out (back-pressure).
    func pumpRequest() {
        guard let up = upstream, !exchange.machine.requestAbandoned else { return }
        if up.state == .connecting {
            switch up.finishConnecting() {
            case .waiting:
                return
            case .failed:
                attemptFailed(.connectFailure)
                return
            case .connected:
                exchange.machine.connected(now: worker.loop.nowMs)
                syncTimer()
            }
        }
        while phase == .proxying || phase == .tunnel {
            if !toUpstream.isEmpty {
                guard up.writable else { return }
                switch up.flush(&toUpstream) {
                case .done: break
                case .blocked:
                    up.writable = false
                    return
                case .failed:
                    upstreamWriteFailed()
                    return
                }
            }
            if exchange.machine.request.done { return }
            if !client.buffer.isEmpty {
                guard forwardBufferedRequestBody() else { return }
                continue
            }
            guard client.readable else { return }
            switch readClient() {
            case .data: break
            case .drained: return
            case .eof, .failed:
                clientClosedDuringRequest(up)
                return
            }
        }
    }

    private func forwardBufferedRequestBody() -> Bool {
        switch exchange.machine.requestBody(client.buffer.readable, now: worker.loop.nowMs) {
        case .forward(let step):
            toUpstream.queueBody(
                UnsafeRawBufferPointer(rebasing: client.buffer.readable[0..<step.forward]), thenCRLF: step.endsBody)
            client.buffer.start += step.consumed
            exchange.bytesIn += step.consumed
            syncTimer()
            return true
        case .stop(let action):
            perform(action)
            return false
        }
    }

    /// The upstream stopped reading the request. If the machine waits for its early answer, read what it sent:
    /// a complete response head is its answer; nothing is a reset.
    private func upstreamWriteFailed() {
        guard let up = upstream, exchange.machine.upstreamStoppedReading() == .proceed else {
            close()
            return
        }
        toUpstream.reset(pool: worker.pool)
        up.readable = true
        up.hangupSeen = true
        pumpResponse()
    }

    /// The client stopped sending. In a tunnel that is a half-close to pass on; mid-body it is an abort.
    private func clientClosedDuringRequest(_ up: UpstreamConnection) {
        guard exchange.machine.clientFinished() == .proceed else {
            close()
            return
        }
        Posix.shutdownWrite(up.fd)
        if exchange.machine.response.done { close() }
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
