import MeshConfig
import MeshEventLoop
import MeshHTTP1
import MeshPosix
import MeshProxy

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

    /// A complete head is at the front of `buffer`: route it and start the exchange.
    func begin(_ head: RequestHead) {
        let config = worker.config
        exchange.reset(startedMs: worker.loop.nowMs)
        exchange.method = head.method
        exchange.clientVersion = head.version
        exchange.clientKeepAlive = head.keepAlive
        exchange.request.begin(head.framing)
        exchange.upgrade = head.upgrade
        phase = .proxying
        let view = RequestView(buffer: buffer.readable, headers: worker.headers, head: head)
        // The view keeps pointing at the head's bytes; they stay in place until the buffer is read into again.
        buffer.start += head.headLength
        guard let pathLength = normalizedPath(view) else {
            respond(.badRequest, close: true)
            return
        }
        let path = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(worker.pathScratch)[0..<pathLength])
        // A gateway is not a forward proxy: CONNECT tunnels nothing here.
        guard head.method != .connect, let route = Router.match(listener.config.routes, request: view, path: path)
        else {
            respond(.noRoute, close: !exchange.request.done)
            return
        }
        exchange.route = route
        if case .contentLength(let n) = head.framing, n > config.source.limits.maxBodyBytes {
            respond(.payloadTooLarge, close: true)
            return
        }
        let endpoint = worker.pickEndpoint(upstream: route.upstreamIndex)
        exchange.endpoint = endpoint
        setDeadline(exchange.startedMs + Int64(route.config.timeoutMs))
        writeUpstreamHead(view, route: route, path: path, endpoint: endpoint)
        queueBufferedBody()
        if head.expectContinue && !exchange.request.done && buffer.isEmpty {
            // RFC 9110 §10.1.1: we will read the body, so tell the client to send it.
            let space = toClient.headSpace(from: worker.pool)
            var w = HeadWriter(space)
            w.write("HTTP/1.1 100 Continue\r\n\r\n")
            toClient.commitHead(w.count)
        }
        connectUpstream(endpoint)
    }

    /// Normalizes the request path into the worker's scratch; nil for a path that is invalid or climbs
    /// above `/` (→ 400).
    private func normalizedPath(_ view: RequestView) -> Int? {
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

    private func writeUpstreamHead(_ view: RequestView, route: CompiledRoute, path: UnsafeRawBufferPointer, endpoint: EndpointPool) {
        let space = toUpstream.headSpace(from: worker.pool)
        var w = HeadWriter(space)
        let context = RequestHeadBuilder.Context(clientIP: clientIP, endpointAuthority: endpoint.authority)
        RequestHeadBuilder.write(view, route: route, normalizedPath: path, context: context, into: &w)
        toUpstream.commitHead(w.overflowed ? 0 : w.count)
    }

    /// Queues the body bytes that arrived with the head; the request can be replayed while it all fits.
    private func queueBufferedBody() {
        exchange.bodyOffset = buffer.start
        switch exchange.request.take(buffer.readable) {
        case .success(let n):
            exchange.bodyCount = n
            if n > 0 { toUpstream.queueBody(UnsafeRawBufferPointer(rebasing: buffer.readable[0..<n])) }
            buffer.start += n
            exchange.replayable = exchange.request.done
        case .failure:
            respond(.badRequest, close: true)
        }
    }

    // MARK: - The gateway's own responses

    /// Answers with a gateway error. The connection closes afterwards when `close` is set or when request
    /// bytes that were never read would otherwise be taken for the next request.
    func respond(_ error: GatewayError, close: Bool) {
        if let upstream { releaseUpstream(upstream, reusable: false) }
        toUpstream.reset(pool: worker.pool)
        toClient.reset(pool: worker.pool)
        let closing = close || !exchange.request.done || !exchange.clientKeepAlive || peerClosed
        let space = toClient.headSpace(from: worker.pool)
        var w = HeadWriter(space)
        error.writeResponse(into: &w, requestID: worker.makeRequestID(), close: closing)
        toClient.commitHead(w.count)
        exchange.local = true
        exchange.responseStarted = true
        exchange.closeAfter = closing
        if closing {
            phase = .closing
            setDeadline(worker.loop.nowMs + 5000)
            flushAndClose()
        } else {
            phase = .proxying
            pumpResponse()
        }
    }
}
