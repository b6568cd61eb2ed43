import CLinux
import MeshConfig
import MeshEventLoop
import MeshHTTP1
import MeshOTLP
import MeshProxy
import MeshTrace

extension DownstreamConnection {
    // MARK: - The gateway's own responses

    /// Answers with a gateway error (SPEC §4's table, JSON body). The connection closes afterwards when
    /// `close` is set or when request bytes that were never read would otherwise be taken for the next request.
    func respond(_ error: GatewayError, close: Bool, extraHeader: String? = nil) {
        if exchange.reported || exchange.startNs == 0 {
            exchange.reset(startNs: clinux_monotonic_ns())
            requestID.removeAll(keepingCapacity: true)
        }
        if requestID.isEmpty { worker.appendRequestID(into: &requestID) }
        abandonAttempt()
        toUpstream.reset(pool: worker.pool)
        client.out.reset(pool: worker.pool)
        let closing = close || closesAfterLocalAnswer
        var w = HeadWriter(client.out.headSpace(from: worker.pool))
        let id = String(decoding: requestID, as: UTF8.self)
        var status = error.status
        if exchange.machine.grpc && !exchange.machine.transcoded {
            // SPEC §10: a gRPC caller reads its error from a Trailers-Only answer, not from a JSON body.
            error.writeGRPCResponse(into: &w, requestID: id, persistence: persistence(closing: closing))
            status = 200
            exchange.grpcStatus = error.grpcStatus
        } else {
            error.writeResponse(
                into: &w, requestID: id, persistence: persistence(closing: closing), extraHeader: extraHeader,
                body: exchange.method != .head)
        }
        client.out.commitHead(w.count)
        exchange.error = error
        sendLocalAnswer(status: status, bodyBytes: exchange.bytesOut, closing: closing)
    }

    /// The gateway answers instead of an upstream (an error, a fallback, an ACME challenge, a transcoded
    /// reply): the client connection cannot be kept when request bytes were never read, or the client or the
    /// worker is going away.
    var closesAfterLocalAnswer: Bool {
        !exchange.machine.request.done || !exchange.clientKeepAlive || client.peerClosed || worker.draining
    }

    /// Sends the answer queued in `client.out` as the exchange's response. A closing answer is counted at
    /// once and gets 5 s to leave; otherwise it is pumped like a proxied response and the connection goes on.
    func sendLocalAnswer(status: Int, bodyBytes: Int, closing: Bool) {
        exchange.status = status
        exchange.bytesOut = bodyBytes
        exchange.machine.answered(now: worker.loop.nowMs)
        exchange.closeAfter = closing
        if closing {
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

    /// Writes the head of an answer the gateway makes itself in place of anything queued for the upstream or the
    /// client: `head` writes the status line and fields, the request id and the connection's persistence follow,
    /// then `body` (a body small enough to share the head's block). Returns whether the connection closes after it;
    /// nil when it did not fit (nothing is queued: a part of a head is never sent).
    private func writeLocalHead(
        _ head: (inout HeadWriter) -> Void, body: (inout HeadWriter) -> Void = { _ in }
    ) -> Bool? {
        toUpstream.reset(pool: worker.pool)
        client.out.reset(pool: worker.pool)
        let closing = closesAfterLocalAnswer
        var w = HeadWriter(client.out.headSpace(from: worker.pool))
        head(&w)
        w.write("x-request-id: ")
        requestID.withUnsafeBytes { w.write($0) }
        w.write("\r\n")
        ResponseHeadBuilder.writePersistence(persistence(closing: closing), into: &w)
        body(&w)
        guard !w.overflowed else { return nil }
        client.out.commitHead(w.count)
        return closing
    }

    /// How the client connection continues after a response the gateway writes itself.
    func persistence(closing: Bool) -> ResponseHeadBuilder.Persistence {
        closing ? .close : exchange.clientVersion == .http10 ? .keepAliveHTTP10 : .keepAlive
    }

    /// Answers with the route's configured fallback (the machine chose it: it covers the reason).
    func serveFallback(_ reason: FallbackOn) {
        guard let route = exchange.route, let fallback = route.fallback else {
            respond(.badGateway, close: false)
            return
        }
        if let upstream { releaseUpstream(upstream, reusable: false) }
        guard let closing = writeLocalHead({ w in fallback.head.withUnsafeBytes { w.write($0) } }) else {
            // Configured headers larger than a head block: a part of a head is never sent, a gateway error is.
            respond(.badGateway, close: false)
            return
        }
        // The body is queued apart from the head, from the route's storage (the exchange holds the route until
        // it is written), so a body of any size goes out whole. A HEAD request gets the length, not the body.
        let body = exchange.method == .head ? 0 : fallback.body.count
        if body > 0 { client.out.queueBody(fallback.body.bytes) }
        telemetry.fallbackServed(listener: listener.listenerIndex, route: route.index, reason: reason)
        sendLocalAnswer(status: fallback.status, bodyBytes: body, closing: closing)
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
        if requestID.isEmpty { worker.appendRequestID(into: &requestID) }
        let withBody = exchange.method != .head
        let written = writeLocalHead({ w in
            w.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ")
            w.writeDecimal(body.utf8.count)
            w.write("\r\n")
        }, body: { w in if withBody { w.write(string: body) } })
        guard let closing = written else {
            respond(.badGateway, close: true)
            return
        }
        sendLocalAnswer(status: 200, bodyBytes: exchange.method == .head ? 0 : body.utf8.count, closing: closing)
    }

    // MARK: - Telemetry

    /// Hands the finished exchange to telemetry, once; also releases its share of the retry budget.
    func report() {
        guard !exchange.reported, exchange.startNs != 0 else { return }
        exchange.reported = true
        if exchange.countedInFlight {
            exchange.target?.budget.endRequest()
            exchange.countedInFlight = false
        }
        if let slot = exchange.inFlightSlot {
            exchange.inFlightSlot = nil
            slot.release(latencyNs: exchange.headLatencyNs, now: clinux_monotonic_ns())
        }
        if exchange.machine.grpc, exchange.grpcStatus == nil, let trailers = exchange.machine.response.trailers {
            exchange.grpcStatus = GRPC.status(inTrailerSection: trailers)
        }
        var record = RequestRecord()
        exchange.fill(&record)
        record.listener = withListener { $0.listenerIndex }
        record.protocolName = bridged ? "HTTP/2" : exchange.clientVersion == .http10 ? "HTTP/1.0" : "HTTP/1.1"
        let telemetry = self.telemetry
        if telemetry.accessLogEnabled || telemetry.spanExportEnabled && exchange.sampled {
            record.client = String(decoding: clientIP, as: UTF8.self)
            record.requestID = String(decoding: requestID, as: UTF8.self)
            if let tls = client.clientTLS {
                record.tlsVersion = tls.version
                record.peerIdentity = tls.identity?.uri
            }
        }
        telemetry.requestFinished(record)
    }
}
