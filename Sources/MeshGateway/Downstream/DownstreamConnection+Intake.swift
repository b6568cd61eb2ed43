import CLinux
import MeshConfig
import MeshControl
import MeshEventLoop
import MeshHTTP1
import MeshPosix
import MeshProxy
import MeshResilience
import MeshTrace

extension DownstreamConnection {
    /// Reads and parses until a complete request head starts an exchange (or the client goes quiet).
    func readHead() {
        while phase == .idle || phase == .readingHead {
            if !client.buffer.isEmpty {
                switch HTTP2Preface.match(client.buffer.readable, allowed: client.tls.map(\.speaksHTTP2) ?? true) {
                case .http2:
                    startHTTP2()
                    return
                case .partial:
                    break
                case .http1:
                    if parseHead() { return }
                }
            }
            guard client.readable else {
                client.buffer.releaseIfEmpty(to: worker.pool)
                return
            }
            let wasIdle = phase == .idle && client.buffer.isEmpty
            switch readClient() {
            case .data:
                if wasIdle {
                    phase = .readingHead
                    setDeadline(worker.loop.nowMs + Int64(worker.config.source.limits.headerTimeoutMs))
                }
            case .drained:
                client.buffer.releaseIfEmpty(to: worker.pool)
                return
            case .eof, .failed:
                close()
                return
            }
        }
    }

    /// Parses what `buffer` holds; true when the head was handled (an exchange began or a 400 went out).
    private func parseHead() -> Bool {
        switch parser.parse(client.buffer.readable, headers: worker.headers) {
        case .complete(let head):
            begin(head)
            return true
        case .invalid(let error):
            exchange.reset(startNs: clinux_monotonic_ns())
            requestID.removeAll(keepingCapacity: true)
            respond(GatewayError(error), close: true)
            return true
        case .incomplete:
            return false
        }
    }

    /// A complete head is at the front of `buffer`: route it and start the first attempt.
    func begin(_ head: RequestHead) {
        startExchange(startNs: clinux_monotonic_ns())
        exchange.method = head.method
        exchange.clientVersion = head.version
        exchange.clientKeepAlive = head.keepAlive
        let limits = worker.config.source.limits
        exchange.machine = ExchangeMachine(
            method: head.method, framing: head.framing,
            limits: .init(idleTimeoutMs: limits.idleTimeoutMs, maxBodyBytes: limits.maxBodyBytes))
        exchange.headOffset = client.buffer.start
        exchange.bytesIn = head.headLength
        phase = .proxying
        let view = RequestView(buffer: client.buffer.readable, headers: worker.headers, head: head)
        // The view keeps pointing at the head's bytes; they stay in place until the buffer is read into again.
        client.buffer.start += head.headLength
        identify(view)
        let pathLength = normalizedPath(view)
        guard let route = route(view, pathLength: pathLength), authorize(view, route: route) else { return }
        // Routed only with a normalized path (`Intake` answers 400 without one).
        admit(head, view: view, pathLength: pathLength ?? 0)
    }

    /// The request's id (SPEC §5), then what the exchange takes from the head before it is judged
    /// (`Exchange.identify`); path and host only when they are exported.
    private func identify(_ view: RequestView) {
        adoptRequestID(view)
        let telemetry = self.telemetry
        exchange.identify(
            view, overHTTP2: bridged, random: &worker.random, now: worker.loop.nowMs,
            keepPath: telemetry.accessLogEnabled || telemetry.spanExportEnabled, keepHost: telemetry.spanExportEnabled)
    }

    /// Judges the head (`Intake`) and routes it: the route, pinned with its generation, or nil when the
    /// request was answered (400, ACME challenge, HTTPS redirect, 404, 403).
    private func route(_ view: RequestView, pathLength: Int?) -> CompiledRoute? {
        let path = pathLength.map {
            UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(worker.pathScratch)[0..<$0])
        }
        let acmeChallenge = client.clientTLS == nil && ACMEHTTPChallenges.claims(view.rawPath)
        let peerIdentity = client.clientTLS?.identity?.uri
        // The listener's routes lent, not counted (`withListener`).
        let verdict = withListener {
            Intake.judge(
                view, normalizedPath: path, listener: $0.config, acmeChallenge: acmeChallenge,
                peerIdentity: peerIdentity)
        }
        let route: CompiledRoute
        // The verdict is read once, and consumed: a second look (`if case .forbidden = verdict`) copied it, and
        // binding the route out of a borrowed verdict copied it too (the route retained and released each time).
        var forbidden = false
        switch consume verdict {
        case .badRequest:
            respond(.badRequest, close: true)
            return nil
        case .acmeChallenge:
            answerACMEChallenge(view)
            return nil
        case .redirectToHTTPS(let port):
            redirectToHTTPS(view, port: port)
            return nil
        case .noRoute:
            respond(.noRoute, close: !exchange.machine.request.done)
            return nil
        case .forbidden(let matched):
            route = matched
            forbidden = true
        case .routed(let matched):
            route = matched
        }
        exchange.machine.routed(to: route)
        worker.refreshAddressesIfChanged()
        exchange.target = pinGeneration().upstreams[route.upstreamIndex]
        if forbidden {
            respond(.forbidden, close: !exchange.machine.request.done)
            return nil
        }
        return route
    }

    /// The request passed routing and the JWT stage (at once, or after waiting for keys): take the body that
    /// came with the head and start the first attempt.
    func admit(_ head: RequestHead, view: RequestView, pathLength: Int) {
        guard let target = exchange.target, let route = exchange.route else { return }
        // SPEC §10: gRPC needs HTTP/2 on both sides; nothing is sent to an HTTP/1 upstream.
        guard !exchange.machine.grpc || target.config.upstreamProtocol != .http1 else {
            respond(.grpcNeedsH2Upstream, close: !exchange.machine.request.done)
            return
        }
        guard admittedByLimits(view, route: route) else { return }
        // A gRPC call on a transcoding route passes through as it is (as Envoy's transcoder lets it).
        if let transcode = route.config.transcode, exchange.transcode == nil, !exchange.machine.grpc {
            transcodeRequest(head, view: view, pathLength: pathLength, transcode)
            return
        }
        var declared: Int?
        if case .contentLength(let n) = head.framing { declared = n }
        exchange.bodyOffset = client.buffer.start
        let action = exchange.machine.admit(
            declaredLength: declared, buffered: client.buffer.readable, expectContinue: head.expectContinue,
            now: worker.loop.nowMs)
        guard case .startAttempt(let sendContinue) = action else {
            perform(action)
            return
        }
        let step = exchange.machine.bufferedBody
        exchange.bytesIn += step.consumed
        client.buffer.start += step.consumed
        if let cap = withListener({ $0.generation.config.upstreamCaps[route.upstreamIndex] }) {
            // SPEC §11: over `max_in_flight`, shed at once rather than queue in front of a struggling upstream.
            guard cap.acquire() else {
                respond(.unavailable, close: !exchange.machine.request.done)
                return
            }
            exchange.inFlightSlot = cap
        }
        target.budget.beginRequest()
        exchange.countedInFlight = true
        if sendContinue { writeContinue() }
        startAttempt(first: (view, pathLength))
    }

    /// `100 Continue` to a client that waits for it before sending the body (RFC 9110 §10.1.1).
    func writeContinue() {
        var w = HeadWriter(client.out.headSpace(from: worker.pool))
        w.write("HTTP/1.1 100 Continue\r\n\r\n")
        client.out.commitHead(w.count)
    }

    /// Keeps the client's `x-request-id` when it is sane (≤ 128 visible ASCII), else makes one (SPEC §5).
    private func adoptRequestID(_ view: RequestView) {
        requestID.removeAll(keepingCapacity: true)
        for i in 0..<view.head.headerCount where view.headers[i].known == .xRequestID {
            let value = view.value(i)
            if RequestID.isSane(value) { requestID.append(contentsOf: value) }
            break
        }
        if requestID.isEmpty { worker.appendRequestID(into: &requestID) }
    }

    /// Normalizes the request path into the worker's scratch; nil for a path that is invalid or climbs
    /// above `/` (→ 400).
    func normalizedPath(_ view: RequestView) -> Int? {
        let out = worker.pathScratch
        if view.head.form == .asterisk || view.head.pathLength == 0 {
            out[0] = view.head.form == .asterisk ? UInt8(ascii: "*") : UInt8(ascii: "/")
            return 1
        }
        switch PathNormalizer.normalize(view.rawPath, into: out) {
        case .normalized(let length): return length
        case .invalid, .climbsAboveRoot: return nil
        }
    }

    /// The request head of the exchange, parsed again from the client buffer: it stays where `begin` found
    /// it while the exchange is parked or retried (the client is not read meanwhile), and the parser's offsets
    /// into it were scratch. Nil when it no longer parses (never expected; answered 400 by the callers).
    func bufferedHead() -> (head: RequestHead, view: RequestView, pathLength: Int)? {
        guard let base = client.buffer.base else { return nil }
        var parser = RequestParser(limits: worker.limits)
        let bytes = UnsafeRawBufferPointer(
            start: base + exchange.headOffset, count: client.buffer.capacity - exchange.headOffset)
        guard case .complete(let head) = parser.parse(bytes, headers: worker.headers) else { return nil }
        let view = RequestView(buffer: bytes, headers: worker.headers, head: head)
        guard let pathLength = normalizedPath(view) else { return nil }
        return (head, view, pathLength)
    }
}

/// Performing `Admission`'s verdicts: answer, park, or go on; and resuming a parked exchange.
extension DownstreamConnection {
    private var admission: Admission { Admission(binding: listener, worker: worker, clientIP: clientIP) }

    /// The JWT stage of a protected route. True when the request may go on; otherwise it was answered (401,
    /// 403) or parked until its provider's keys are refetched.
    func authorize(_ view: RequestView, route: CompiledRoute) -> Bool {
        if !claimLines.isEmpty { claimLines.removeAll(keepingCapacity: true) }
        guard route.jwtProvider >= 0, route.config.jwt != nil else { return true }
        let provider = listener.generation.providers[route.jwtProvider]
        return perform(
            admission.token(
                view, route: route, provider: provider, cacheIndex: route.jwtProvider, mayWait: true, stage: &jwt,
                claimLines: &claimLines, progress: &exchange.admission))
    }

    /// The rate limits (SPEC §11). True when the request may go on; otherwise it was answered (429, or
    /// `on_error: deny`) or parked for a global limit's reservation.
    func admittedByLimits(_ view: RequestView, route: CompiledRoute) -> Bool {
        // Most routes have no limit: no `Admission` (three references counted up and down) to learn that.
        guard route.rateLimit != nil || withListener({ $0.config.rateLimit != nil }) else { return true }
        return perform(admission.limits(view, route: route, progress: &exchange.admission))
    }

    /// True on `.pass`. A parked exchange sends nothing upstream and reads nothing from the client (its head
    /// and buffered body stay in `buffer` for the re-check); a client that leaves meanwhile closes the
    /// connection like any other.
    private func perform(_ verdict: AdmissionVerdict) -> Bool {
        switch verdict {
        case .pass:
            return true
        case .refuse(let error, let extraHeader):
            respond(error, close: !exchange.machine.request.done, extraHeader: extraHeader)
        case .awaitKeys(let provider):
            exchange.keyWait = provider
            exchange.machine.awaitKeys(now: worker.loop.nowMs)
            syncTimer()
        case .awaitLimit(let digest, let timeoutMs):
            exchange.machine.awaitLimit(now: worker.loop.nowMs, storeTimeoutMs: timeoutMs)
            syncTimer()
            if let digest {
                worker.globalLimits.park(self, digest: digest)
            } else {
                worker.globalLimits.parkUntilConnected(self)
            }
        }
        return false
    }

    // MARK: - Resuming

    /// The provider's refetch reported: judge the same buffered request again on the key set now in force (no
    /// second wait), then go on as `begin` would have.
    func resumeAfterKeys() {
        guard phase == .proxying, let provider = exchange.keyWait, let route = exchange.route else { return }
        exchange.keyWait = nil
        exchange.machine.keysArrived()
        claimLines.removeAll(keepingCapacity: true)
        // A reload while parked may have replaced the provider list: find ours by identity, never by index.
        let cacheIndex = listener.generation.providers.firstIndex { $0 === provider } ?? -1
        readmit { view in
            perform(
                admission.token(
                    view, route: route, provider: provider, cacheIndex: cacheIndex, mayWait: false, stage: &jwt,
                    claimLines: &claimLines, progress: &exchange.admission))
        }
    }

    /// The route timeout passed before the refetch reported.
    func keyWaitExpired() {
        guard let provider = exchange.keyWait else { return }
        exchange.keyWait = nil
        _ = perform(admission.keysNeverCame(provider))
    }

    /// A reservation this exchange waited for answered (or failed): judge the limits again and go on.
    func resumeAfterLimit() {
        guard phase == .proxying, exchange.machine.state == .awaitingLimit else { return }
        exchange.machine.limitArrived()
        readmit { _ in true }
    }

    /// The store never answered within its timeout (and a second): `on_error` decides.
    func limitWaitExpired() {
        exchange.machine.limitArrived()
        guard let route = exchange.route else { return }
        guard perform(admission.storeNeverAnswered(route: route, progress: &exchange.admission)) else { return }
        readmit { _ in true }
    }

    /// Parses the parked request's head again from the client buffer and, when `check` lets it through, admits
    /// it (the admission steps it already passed are not counted again).
    func readmit(_ check: (RequestView) -> Bool) {
        guard let (head, view, pathLength) = bufferedHead() else {
            respond(.badRequest, close: true)
            return
        }
        guard check(view) else { return }
        admit(head, view: view, pathLength: pathLength)
    }
}
