import Glibc
import MeshControl
import MeshEventLoop
import MeshHTTP1
import MeshHTTP2
import MeshPosix
import MeshOTLP
import MeshProxy

extension DownstreamConnection {
    // MARK: - Response: upstream → client

    /// Writes what is queued for the client, then parses and forwards the upstream's response; reads from
    /// the upstream only when the client has taken everything before (back-pressure).
    func pumpResponse() {
        while phase == .proxying || phase == .tunnel {
            // Parse and queue first, so a response head and the body bytes read with it leave in one writev.
            if let up = upstream, up.state == .active, !up.buffer.isEmpty, client.out.bodyCount == 0 {
                if !exchange.machine.responseStarted {
                    switch parseResponseHead(up) {
                    case .progressed: continue  // a 1xx was skipped, or the response started: queue and flush
                    case .needMore: break
                    case .stop: return
                    }
                }
                if exchange.machine.responseStarted && !up.buffer.isEmpty {
                    guard forwardResponseBody(up) else { return }
                }
            }
            // Count the request before its last bytes leave: whoever sees the response can already see it in
            // the metrics and the log (the body is queued whole by now; the write cannot change the outcome).
            if exchange.machine.responseStarted && exchange.machine.response.done && !exchange.reported { report() }
            guard flushClient() else { return }
            if exchange.machine.responseStarted && exchange.machine.response.done {
                finishExchange()
                return
            }
            guard let up = upstream, up.state == .active, up.readable else { return }
            guard readUpstream(up) else { return }
        }
    }

    private enum HeadStep {
        case progressed
        case needMore
        case stop
    }

    private func parseResponseHead(_ up: UpstreamConnection) -> HeadStep {
        let headers = worker.headers
        // A transcoded call is a POST whatever the REST method was (a HEAD's answer would have no body).
        let method = exchange.transcode == nil ? exchange.method : .post
        switch up.parser.parse(up.buffer.readable, headers: headers, requestMethod: method) {
        case .incomplete:
            return .needMore
        case .invalid:
            attemptFailed(.reset)
            return .stop
        case .complete(let head):
            if head.isInformational {
                // Our own 100 Continue already went out; other 1xx are dropped (RFC 9110 §15.2 allows it).
                up.buffer.start += head.headLength
                up.parser.reset()
                return .progressed
            }
            if exchange.transcode != nil { return startTranscodedReply(head, up) ? .progressed : .stop }
            return startResponse(head, up) ? .progressed : .stop
        }
    }

    /// Queues the client head and the body bytes that came with it, or rejects the response (`ResponseStart`
    /// decides which, before anything is queued). Returns false when the exchange went elsewhere (rejected,
    /// retried, or answered by a fallback).
    private func startResponse(_ head: ResponseHead, _ up: UpstreamConnection) -> Bool {
        let readable = UnsafeMutableRawBufferPointer(mutating: up.buffer.readable)
        let afterHead = UnsafeMutableRawBufferPointer(rebasing: readable[head.headLength...])
        let grpc = exchange.machine.grpc
        let grpcStatus =
            grpc ? GRPC.status(inHead: up.buffer.readable, headers: worker.headers, count: head.headerCount) : nil
        let request = ResponseStart.Request(
            upgradeAsked: exchange.upgrade, clientVersion: exchange.clientVersion,
            clientKeepAlive: exchange.clientKeepAlive, clientLeaving: client.peerClosed || worker.draining,
            requestDone: exchange.machine.request.done, requestAbandoned: exchange.machine.requestAbandoned, grpc: grpc)
        var cursor = BodyCursor()
        guard let start = ResponseStart(head, grpcStatus: grpcStatus, afterHead: afterHead, request: request, cursor: &cursor),
            // Written now, committed only once the response is known to be forwarded (nil: it does not fit).
            let prepared = prepareHead(head, up, start.plan)
        else { return rejectResponse() }
        guard responseHeadArrived(status: head.status, grpcStatus: grpcStatus) else {
            prepared.discard(worker)
            return false
        }
        exchange.grpcStatus = grpcStatus
        switch prepared {
        case .http1(let count): client.out.commitHead(count)
        case .fields(let fields): client.pipe?.handOver(.init(status: head.status, framing: head.framing, fields: fields))
        }
        let plan = start.plan
        exchange.machine.responseStarted(framing: head.framing, switching: plan.switching, now: worker.loop.nowMs)
        exchange.machine.response = cursor
        syncTimer()
        exchange.dechunk = plan.dechunk
        exchange.closeAfter = !plan.keepsClient && !plan.switching
        exchange.status = head.status
        exchange.upstreamKeepAlive = plan.upstreamKeepAlive
        if start.data > 0 { client.out.queueBody(UnsafeRawBufferPointer(rebasing: afterHead[0..<start.data])) }
        exchange.bytesOut += start.data
        up.buffer.start += head.headLength + start.consumed
        if plan.switching { phase = .tunnel }
        return true
    }

    /// The client head, written and not yet committed.
    private enum PreparedHead {
        /// HTTP/1 bytes in `client.out`'s head space.
        case http1(count: Int)
        /// An HTTP/2 stream's field list, for its bridge (`StreamPipe.handOver`: the bridge would only parse an
        /// HTTP/1 head again).
        case fields(HTTP2HeaderList)

        func discard(_ worker: Worker) {
            if case .fields(let list) = self { worker.giveBack(list) }
        }
    }

    /// Writes the client head; nil when it does not fit whole (it is never sent in part, and the body never
    /// without it). A handed-over head is held to the size the HTTP/1 one would have.
    private func prepareHead(_ head: ResponseHead, _ up: UpstreamConnection, _ plan: ResponsePlan) -> PreparedHead? {
        if !plan.switching && client.out.isEmpty && client.pipe?.takesHead == true {
            var fields = worker.takeFieldList()
            requestID.withUnsafeBytes { id in
                ResponseHeadBuilder.writeFields(
                    buffer: up.buffer.readable, headers: worker.headers, head: head, route: exchange.route,
                    dechunk: false, requestID: id, into: &fields)
            }
            guard fields.byteCount + 4 * fields.count <= worker.pool.bufferSize else {
                worker.giveBack(fields)
                return nil
            }
            return .fields(fields)
        }
        var w = HeadWriter(client.out.headSpace(from: worker.pool))
        requestID.withUnsafeBytes { id in
            ResponseHeadBuilder.write(
                buffer: up.buffer.readable, headers: worker.headers, head: head, route: exchange.route,
                persistence: plan.persistence, dechunk: plan.dechunk, requestID: id, into: &w)
        }
        return w.overflowed ? nil : .http1(count: w.count)
    }

    /// The upstream's response cannot be forwarded faithfully and no byte of it reached the client: the attempt
    /// ends as a `reset` (its connection closed, never reused), so the client gets a retry, the route's fallback
    /// or a 502 `bad_gateway`, exactly as for a malformed head (SPEC §4).
    private func rejectResponse() -> Bool {
        attemptFailed(.reset)
        return false
    }

    /// Forwards body bytes read after the head was written out.
    private func forwardResponseBody(_ up: UpstreamConnection) -> Bool {
        if exchange.transcode != nil { return collectReply(up) }
        let bytes = UnsafeMutableRawBufferPointer(mutating: up.buffer.readable)
        guard let body = exchange.machine.response.forward(bytes, dechunk: exchange.dechunk) else {
            // The head already reached the client: close, so the broken body shows as a truncation.
            close()
            return false
        }
        if body.data > 0 { client.out.queueBody(UnsafeRawBufferPointer(rebasing: bytes[0..<body.data])) }
        exchange.bytesOut += body.data
        up.buffer.start += body.consumed
        return true
    }

    /// Reads once from the upstream; false when nothing more can happen now.
    private func readUpstream(_ up: UpstreamConnection) -> Bool {
        switch up.read() {
        case .wouldBlock:
            return false
        case .full:
            attemptFailed(.reset)
            return false
        case .end:
            upstreamLost(up)
            return phase == .proxying || phase == .tunnel
        case .data:
            exchange.machine.responseRead(now: worker.loop.nowMs)
            syncTimer()
            return true
        }
    }

    /// The upstream closed (or reset) its side: the machine says what that means for the exchange.
    private func upstreamLost(_ up: UpstreamConnection) {
        up.eof = true
        exchange.upstreamKeepAlive = false
        perform(exchange.machine.upstreamClosed())
    }

    // MARK: - Completion

    /// Both directions are complete: park or close the upstream connection, then serve the next request.
    func finishExchange() {
        report()
        if let up = upstream {
            // Whether the connection itself is clean (end seen, bytes left) is `quietForReuse`'s to say.
            releaseUpstream(up, reusable: exchange.upstreamKeepAlive && exchange.machine.request.done)
        }
        toUpstream.reset(pool: worker.pool)
        if exchange.closeAfter || phase == .tunnel || worker.draining || client.peerClosed && client.buffer.isEmpty {
            close()
            return
        }
        phase = .idle
        releaseExchange()
        parser.reset()
        setDeadline(worker.loop.nowMs + Int64(worker.config.source.limits.idleTimeoutMs))
        if client.buffer.isEmpty {
            client.buffer.releaseIfEmpty(to: worker.pool)
            // A bridged connection's stream may now be handed this connection for the session's next stream.
            client.pipe?.innerWaits()
            if !client.readable { return }
        }
        readHead()
    }

    /// Hands the finished exchange to telemetry, once, with what the connection knows of it (listener, protocol,
    /// client, TLS identity).
    func report() {
        guard !exchange.reported, exchange.startNs != 0 else { return }
        var record = RequestRecord()
        exchange.finish(into: &record)
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
