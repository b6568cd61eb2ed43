import CLinux
import MeshConfig
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
            if !buffer.isEmpty {
                let headers = worker.headers
                switch parser.parse(buffer.readable, headers: headers) {
                case .complete(let head):
                    begin(head)
                    return
                case .invalid(let error):
                    exchange.reset(startNs: clinux_monotonic_ns())
                    requestID.removeAll(keepingCapacity: true)
                    respond(GatewayError(error), close: true)
                    return
                case .incomplete:
                    break
                }
            }
            guard readable else {
                buffer.releaseIfEmpty(to: worker.pool)
                return
            }
            let wasIdle = phase == .idle && buffer.isEmpty
            switch readClient() {
            case .data:
                if wasIdle {
                    phase = .readingHead
                    setDeadline(worker.loop.nowMs + Int64(worker.config.source.limits.headerTimeoutMs))
                }
            case .drained:
                buffer.releaseIfEmpty(to: worker.pool)
                return
            case .eof, .failed:
                close()
                return
            }
        }
    }

    /// A complete head is at the front of `buffer`: route it and start the first attempt.
    func begin(_ head: RequestHead) {
        exchange.reset(startNs: clinux_monotonic_ns())
        exchange.method = head.method
        exchange.clientVersion = head.version
        exchange.clientKeepAlive = head.keepAlive
        exchange.request.begin(head.framing)
        exchange.headOffset = buffer.start
        exchange.bytesIn = head.headLength
        phase = .proxying
        let view = RequestView(buffer: buffer.readable, headers: worker.headers, head: head)
        // The view keeps pointing at the head's bytes; they stay in place until the buffer is read into again.
        buffer.start += head.headLength
        adoptRequestID(view)
        exchange.traceID = TraceID(high: worker.random.nextNonZero(), low: worker.random.next())
        exchange.spanID = SpanID(worker.random.nextNonZero())
        exchange.sampleRandom = worker.random.next()
        if telemetry.accessLogEnabled || telemetry.spanExportEnabled { capturePath(view) }
        if telemetry.spanExportEnabled {
            exchange.host = String(decoding: Bytes.hostWithoutPort(view.authority), as: UTF8.self)
        }
        exchange.upgrade = TrustBoundary.allowsTunnel(view)
        guard let pathLength = normalizedPath(view), TrustBoundary.violation(view, trusted: listener.config.trustedNames) == nil
        else {
            respond(.badRequest, close: true)
            return
        }
        if let port = listener.config.config.redirectToHTTPS {
            redirectToHTTPS(view, port: port)
            return
        }
        let path = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(worker.pathScratch)[0..<pathLength])
        // A gateway is not a forward proxy: CONNECT tunnels nothing here.
        guard head.method != .connect, let route = listener.config.table.match(view, path: path)
        else {
            respond(.noRoute, close: !exchange.request.done)
            return
        }
        exchange.route = route
        worker.refreshAddressesIfChanged()
        let target = pinGeneration().upstreams[route.upstreamIndex]
        exchange.target = target
        // SPEC §9: a route that names identities admits only those verified client certificates, before JWT.
        if let allowed = route.config.allowIdentities {
            guard let uri = tls?.identity?.uri, allowed.contains(uri) else {
                respond(.forbidden, close: !exchange.request.done)
                return
            }
        }
        guard authorize(view, route: route) else { return }
        admit(head, view: view, pathLength: pathLength)
    }

    /// The request passed routing and the JWT stage (at once, or after waiting for keys): take the body that
    /// came with the head and start the first attempt.
    func admit(_ head: RequestHead, view: RequestView, pathLength: Int) {
        guard let route = exchange.route, let target = exchange.target else { return }
        let config = worker.config
        if case .contentLength(let n) = head.framing, n > config.source.limits.maxBodyBytes {
            respond(.payloadTooLarge, close: true)
            return
        }
        guard takeBufferedBody() else {
            respond(exchange.bodyTooLarge ? .payloadTooLarge : .badRequest, close: true)
            return
        }
        target.budget.beginRequest()
        exchange.countedInFlight = true
        // min: a request that waited for keys has already used part of its route timeout.
        if exchange.request.done {
            exchange.deadlineMs = min(exchange.deadlineMs, worker.loop.nowMs + Int64(route.config.timeoutMs))
        }
        if head.expectContinue && !exchange.request.done && buffer.isEmpty {
            // RFC 9110 §10.1.1: we will read the body, so tell the client to send it.
            let space = toClient.headSpace(from: worker.pool)
            var w = HeadWriter(space)
            w.write("HTTP/1.1 100 Continue\r\n\r\n")
            toClient.commitHead(w.count)
        }
        startAttempt(first: (view, pathLength))
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

    private func capturePath(_ view: RequestView) {
        exchange.path = String(decoding: view.rawPath, as: UTF8.self)
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

    /// Takes the body bytes that arrived with the head. The request can be replayed (retried) when the
    /// whole body is among them and within 64 KiB (SPEC §3).
    private func takeBufferedBody() -> Bool {
        exchange.bodyOffset = buffer.start
        switch exchange.request.takeRequest(buffer.readable) {
        case .success(let step):
            // A chunked body has no length up front: its buffered part counts against the limit too.
            guard exchange.request.total <= worker.config.source.limits.maxBodyBytes else {
                exchange.bodyTooLarge = true
                return false
            }
            exchange.bodyCount = step.forward
            exchange.bodyEndsWithCRLF = step.endsBody
            exchange.bytesIn += step.consumed
            buffer.start += step.consumed
            exchange.replayable = exchange.request.done && step.consumed <= RetryPolicy.maxBufferedBodyBytes
            return true
        case .failure:
            return false
        }
    }
}
