import CLinux
import MeshConfig
import MeshEventLoop
import MeshHTTP1
import MeshProxy

extension DownstreamConnection {
    // MARK: - The gateway's own responses

    /// Answers with a gateway error (SPEC §4's table). The connection closes afterwards when `close` is set or
    /// when request bytes that were never read would otherwise be taken for the next request.
    func respond(_ error: GatewayError, close: Bool, extraHeader: String? = nil) {
        startAnswer()
        // SPEC §10: a gRPC caller reads its error from a Trailers-Only answer, not from a JSON body.
        let grpc = exchange.machine.grpc && !exchange.machine.transcoded
        if grpc { exchange.grpcStatus = error.grpcStatus }
        exchange.error = error
        answer(.error(error, grpc: grpc, extraHeader: extraHeader), close: close)
    }

    /// Answers with the route's configured fallback (the machine chose it: it covers the reason).
    func serveFallback(_ reason: FallbackOn) {
        guard let route = exchange.route, let fallback = route.fallback else {
            respond(.badGateway, close: false)
            return
        }
        // Configured fields larger than a head block: a part of a head is never sent, a gateway error is.
        guard let queued = queueAnswer(.fallback(fallback), close: false) else {
            respond(.badGateway, close: false)
            return
        }
        telemetry.fallbackServed(listener: listener.listenerIndex, route: route.index, reason: reason)
        sendLocalAnswer(queued)
    }

    /// Sends `answer` as the exchange's response, or a 502 when it does not fit a head block.
    func answer(_ answer: LocalAnswer, close: Bool) {
        guard let queued = queueAnswer(answer, close: close) else {
            // A plain 502 fits any head block; what does not (a very long `location`) becomes one.
            if case .error(.badGateway, _, .none) = answer { return self.close() }
            respond(.badGateway, close: true)
            return
        }
        sendLocalAnswer(queued)
    }

    /// A gateway error for a request that was never read (a parse error) or after one already answered: the
    /// answer gets an exchange of its own.
    private func startAnswer() {
        guard exchange.reported || exchange.startNs == 0 else { return }
        exchange.reset(startNs: clinux_monotonic_ns())
        requestID.removeAll(keepingCapacity: true)
    }

    /// An answer queued in `client.out` and whether the connection closes after it.
    struct QueuedAnswer {
        var written: LocalAnswer.Written
        var closing: Bool
    }

    /// Queues `answer` in place of anything queued for the upstream or the client; nil (nothing queued) when its
    /// head did not fit. `endingAttempt`: the attempt's connection is let go (not when the answer is made from
    /// the upstream's whole reply, whose connection `pumpResponse` may reuse).
    func queueAnswer(_ answer: LocalAnswer, close: Bool, endingAttempt: Bool = true) -> QueuedAnswer? {
        startAnswer()
        if requestID.isEmpty { worker.appendRequestID(into: &requestID) }
        if endingAttempt {
            abandonAttempt()
            toUpstream.reset(pool: worker.pool)
        }
        client.out.reset(pool: worker.pool)
        let closing = close || closesAfterLocalAnswer
        let persistence: ResponseHeadBuilder.Persistence =
            closing ? .close : exchange.clientVersion == .http10 ? .keepAliveHTTP10 : .keepAlive
        var w = HeadWriter(client.out.headSpace(from: worker.pool))
        let written = requestID.withUnsafeBytes { id in
            answer.write(into: &w, requestID: id, persistence: persistence, withBody: exchange.method != .head)
        }
        guard let written else { return nil }
        client.out.commitHead(w.count)
        if let body = written.body { client.out.queueBody(body) }
        return QueuedAnswer(written: written, closing: closing)
    }

    /// The gateway answers instead of an upstream: the client connection cannot be kept when request bytes were
    /// never read, or the client or the worker is going away.
    private var closesAfterLocalAnswer: Bool {
        !exchange.machine.request.done || !exchange.clientKeepAlive || client.peerClosed || worker.draining
    }

    /// Sends the queued answer as the exchange's response. A closing answer is counted at once and gets 5 s to
    /// leave; otherwise it is pumped like a proxied response and the connection goes on.
    func sendLocalAnswer(_ queued: QueuedAnswer) {
        exchange.status = queued.written.status
        exchange.bytesOut = queued.written.bodyBytes
        exchange.machine.answered(now: worker.loop.nowMs)
        exchange.closeAfter = queued.closing
        if queued.closing {
            report()
            phase = .closing
            setDeadline(worker.loop.nowMs + 5000)
            flushAndClose()
        } else {
            phase = .proxying
            syncTimer()
            pumpResponse()
        }
    }

    // MARK: - Answers before routing

    /// SPEC §9 `redirect_to_https`: a 308 to the same host and target over HTTPS (`HTTPSRedirect`), or 400 for a
    /// host that cannot be copied into `location`.
    func redirectToHTTPS(_ view: RequestView, port: Int) {
        guard let location = HTTPSRedirect.location(view, port: port) else {
            respond(.badRequest, close: true)
            return
        }
        respond(.httpsRequired, close: !exchange.machine.request.done, extraHeader: "location: " + location)
    }

    /// Answers a request under `/.well-known/acme-challenge/` (see `ACMEHTTPChallenges`): 200 with the key
    /// authorization as `text/plain`, or 404 `no_route` for a token not being served.
    func answerACMEChallenge(_ view: RequestView) {
        guard let body = ACMEHTTPChallenges.answer(view.rawPath) else {
            respond(.noRoute, close: !exchange.machine.request.done)
            return
        }
        answer(.text(Array(body.utf8)), close: false)
    }
}
