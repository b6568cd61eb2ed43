import Glibc
import MeshEventLoop
import MeshHTTP1
import MeshPosix
import MeshProxy

extension DownstreamConnection {
    // MARK: - Response: upstream → client

    /// Writes what is queued for the client, then parses and forwards the upstream's response; reads from
    /// the upstream only when the client has taken everything before (back-pressure).
    func pumpResponse() {
        while phase == .proxying || phase == .tunnel {
            // Parse and queue first, so a response head and the body bytes read with it leave in one writev.
            if let up = upstream, up.state == .active, !up.buffer.isEmpty, toClient.bodyCount == 0 {
                if !exchange.responseStarted {
                    switch parseResponseHead(up) {
                    case .progressed: if !exchange.responseStarted { continue }  // a 1xx was skipped
                    case .needMore: break
                    case .stop: return
                    }
                }
                if exchange.responseStarted && !up.buffer.isEmpty {
                    guard forwardResponseBody(up) else { return }
                }
            }
            // Count the request before its last bytes leave: whoever sees the response can already see it in
            // the metrics and the log (the body is queued whole by now; the write cannot change the outcome).
            if exchange.responseStarted && exchange.response.done && !exchange.reported { report() }
            guard flushClient() else { return }
            if exchange.responseStarted && exchange.response.done {
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
        switch up.parser.parse(up.buffer.readable, headers: headers, requestMethod: exchange.method) {
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
            guard responseHeadArrived(status: head.status) else { return .stop }
            startResponse(head, up)
            return .progressed
        }
    }

    private func startResponse(_ head: ResponseHead, _ up: UpstreamConnection) {
        let switching = head.status == 101 && exchange.upgrade
        exchange.dechunk = head.framing == .chunked && exchange.clientVersion == .http10
        let keepClient =
            exchange.clientKeepAlive && !peerClosed && !worker.draining && head.framing != .untilClose
            && !exchange.dechunk && exchange.request.done && !exchange.requestAbandoned
        exchange.closeAfter = !keepClient && !switching
        let persistence: ResponseHeadBuilder.Persistence =
            !keepClient ? .close : exchange.clientVersion == .http10 ? .keepAliveHTTP10 : .keepAlive
        let space = toClient.headSpace(from: worker.pool)
        var w = HeadWriter(space)
        requestID.withUnsafeBytes { id in
            ResponseHeadBuilder.write(
                buffer: up.buffer.readable, headers: worker.headers, head: head, route: exchange.route,
                persistence: persistence, dechunk: exchange.dechunk, requestID: id, into: &w)
        }
        toClient.commitHead(w.overflowed ? 0 : w.count)
        exchange.status = head.status
        up.buffer.start += head.headLength
        exchange.responseStarted = true
        exchange.upstreamKeepAlive = head.keepAlive && head.framing != .untilClose && !switching
        exchange.response.begin(switching ? .untilClose : head.framing)
        if switching {
            phase = .tunnel
            exchange.request.begin(.untilClose)
            // A tunnel is closed after `idle_timeout_ms` without bytes either way (nginx's proxy_read_timeout).
            setDeadline(worker.loop.nowMs + Int64(worker.config.source.limits.idleTimeoutMs))
        } else if !exchange.response.done {
            armBodyDeadline()
        }
    }

    private func forwardResponseBody(_ up: UpstreamConnection) -> Bool {
        let bytes = up.buffer.readable
        let result: Result<(Int, Int), HTTPParseError>
        if exchange.dechunk {
            result = exchange.response.takeDechunked(UnsafeMutableRawBufferPointer(mutating: bytes))
        } else {
            result = exchange.response.take(bytes).map { ($0, $0) }
        }
        switch result {
        case .success(let (consumed, data)):
            if data > 0 { toClient.queueBody(UnsafeRawBufferPointer(rebasing: bytes[0..<data])) }
            exchange.bytesOut += data
            up.buffer.start += consumed
            return true
        case .failure:
            // The upstream broke framing mid-body: the client cannot get a correct message any more.
            close()
            return false
        }
    }

    /// Reads once from the upstream; false when nothing more can happen now.
    private func readUpstream(_ up: UpstreamConnection) -> Bool {
        up.buffer.acquire(from: worker.pool)
        if up.buffer.isEmpty {
            up.buffer.start = 0
            up.buffer.end = 0
        } else if up.buffer.spaceAtEnd == 0 {
            up.buffer.compact()
            if up.buffer.spaceAtEnd == 0 {
                attemptFailed(.reset)  // a response head larger than a whole buffer
                return false
            }
        }
        let space = up.buffer.spaceAtEnd
        let result: IOResult<Int>
        do {
            result = try Posix.read(up.fd, up.buffer.base! + up.buffer.end, space)
        } catch {
            upstreamLost(up)
            return false
        }
        switch result {
        case .wouldBlock:
            up.readable = false
            return false
        case .processed(0):
            up.readable = false
            upstreamLost(up)
            return phase == .proxying || phase == .tunnel
        case .processed(let n):
            up.buffer.end += n
            // A short read means drained, unless the peer's FIN/RST came with the data: then read the end too.
            if n < space && !up.hangupSeen { up.readable = false }
            if exchange.responseStarted && phase == .proxying { armBodyDeadline() }
            if phase == .tunnel { setDeadline(worker.loop.nowMs + Int64(worker.config.source.limits.idleTimeoutMs)) }
            return true
        }
    }

    /// While the response body streams: the idle timeout between reads, within the route's `timeout_ms`
    /// (SPEC §3: the whole request; set a larger `timeout_ms` on routes that stream big downloads).
    private func armBodyDeadline() {
        setDeadline(min(exchange.deadlineMs, worker.loop.nowMs + Int64(worker.config.source.limits.idleTimeoutMs)))
    }

    /// The upstream closed (or reset) its side.
    private func upstreamLost(_ up: UpstreamConnection) {
        up.eof = true
        if !exchange.responseStarted {
            attemptFailed(.reset)
        } else if exchange.response.peerClosed() {
            exchange.upstreamKeepAlive = false
            if phase == .tunnel {
                // Pass the half-close on; the tunnel ends when both sides are done.
                exchange.closeAfter = true
            }
        } else {
            // Truncated body: the client must not take a short message for a whole one.
            close()
        }
    }

    // MARK: - Completion

    /// Both directions are complete: park or close the upstream connection, then serve the next request.
    func finishExchange() {
        report()
        if let up = upstream {
            let reusable = exchange.upstreamKeepAlive && exchange.request.done && !up.eof && up.buffer.isEmpty
            releaseUpstream(up, reusable: reusable)
        }
        toUpstream.reset(pool: worker.pool)
        if exchange.closeAfter || phase == .tunnel || worker.draining || peerClosed && buffer.isEmpty {
            close()
            return
        }
        phase = .idle
        parser.reset()
        setDeadline(worker.loop.nowMs + Int64(worker.config.source.limits.idleTimeoutMs))
        if buffer.isEmpty {
            buffer.releaseIfEmpty(to: worker.pool)
            if !readable { return }
        }
        readHead()
    }
}
