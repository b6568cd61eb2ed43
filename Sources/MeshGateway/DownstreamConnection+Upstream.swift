import Glibc
import MeshEventLoop
import MeshHTTP1
import MeshPosix
import MeshProxy

extension DownstreamConnection {
    // MARK: - Connecting

    /// Takes a pooled connection to `endpoint` or opens a new one, then starts sending.
    func connectUpstream(_ endpoint: EndpointPool) {
        guard phase == .proxying else { return }
        if let idle = endpoint.takeIdle() {
            idle.activate(owner: self)
            upstream = idle
            pumpRequest()
            pumpResponse()
            return
        }
        guard endpoint.canOpen else {
            respond(.unavailable, close: false)
            return
        }
        do {
            let fd = try Sockets.stream(family: endpoint.address.family)
            let connected: Bool
            do {
                connected = try { () throws(SystemError) -> Bool in
                    if case .processed = try Posix.connect(fd, endpoint.address) { return true }
                    return false
                }()
            } catch {
                Posix.close(fd)
                upstreamFailed(.connectFailure)
                return
            }
            let connection = try UpstreamConnection(worker: worker, pool: endpoint, fd: fd, connected: connected)
            endpoint.active += 1
            connection.activate(owner: self)
            upstream = connection
            if !connected {
                setDeadline(min(timer.deadlineMs, worker.loop.nowMs + Int64(endpoint.connectTimeoutMs)))
            }
            pumpRequest()
        } catch {
            upstreamFailed(.connectFailure)
        }
    }

    /// Why an attempt failed before a response head reached the client.
    enum AttemptFailure {
        case connectFailure
        case reset
        case badResponse
        case timeout
    }

    /// An attempt failed: send the request again on a fresh connection if it went out on a reused
    /// keep-alive connection that the upstream had closed meanwhile, else answer 502/504.
    func upstreamFailed(_ failure: AttemptFailure) {
        let stale = failure == .reset && (upstream?.served ?? 0) > 1 && upstream?.buffer.isEmpty ?? true
        if let upstream { releaseUpstream(upstream, reusable: false) }
        if stale && exchange.replayable && exchange.method.isIdempotent, let endpoint = exchange.endpoint {
            // The request is still whole in our buffer: rewind and send it again (nothing reached the client).
            toUpstream.rewind()
            if exchange.bodyCount > 0, let base = buffer.base {
                toUpstream.queueBody(UnsafeRawBufferPointer(start: base + exchange.bodyOffset, count: exchange.bodyCount))
            }
            connectUpstream(endpoint)
            return
        }
        respond(failure == .timeout ? .gatewayTimeout : .badGateway, close: false)
    }

    func releaseUpstream(_ connection: UpstreamConnection, reusable: Bool) {
        upstream = nil
        if reusable {
            connection.pool.park(connection, nowMs: worker.loop.nowMs)
        } else {
            connection.pool.released()
            connection.close()
        }
    }

    /// `timeout_ms` (or the connect timeout) expired with the exchange still running.
    func timedOut() {
        if exchange.responseStarted {
            close()
        } else if upstream?.state == .connecting {
            upstreamFailed(.connectFailure)
        } else {
            upstreamFailed(.timeout)
        }
    }

    // MARK: - Request: client → upstream

    /// Sends the upstream head and as much body as is available; reads more body from the client only when
    /// everything before it went out (back-pressure).
    func pumpRequest() {
        guard let up = upstream else { return }
        if up.state == .connecting {
            guard up.writable else { return }
            let error = Posix.socketError(up.fd)
            guard error == 0 else {
                upstreamFailed(.connectFailure)
                return
            }
            up.state = .active
            setDeadline(exchange.startedMs + Int64(exchange.route?.config.timeoutMs ?? 3000))
        }
        while phase == .proxying || phase == .tunnel {
            if !toUpstream.isEmpty {
                guard up.writable else { return }
                switch toUpstream.flush(up.fd, pool: worker.pool, keepHead: exchange.replayable) {
                case .done: break
                case .blocked:
                    up.writable = false
                    return
                case .failed:
                    upstreamWriteFailed()
                    return
                }
            }
            if exchange.request.done { return }
            if !buffer.isEmpty {
                guard forwardBufferedRequestBody() else { return }
                continue
            }
            guard readable else { return }
            exchange.replayable = false
            switch readClient() {
            case .data: continue
            case .drained: return
            case .eof, .failed:
                clientClosedDuringRequest(up)
                return
            }
        }
    }

    private func forwardBufferedRequestBody() -> Bool {
        switch exchange.request.take(buffer.readable) {
        case .success(let n):
            if exchange.request.total > worker.config.source.limits.maxBodyBytes && !exchange.request.isUntilClose {
                failRequestBody(.payloadTooLarge)
                return false
            }
            toUpstream.queueBody(UnsafeRawBufferPointer(rebasing: buffer.readable[0..<n]))
            buffer.start += n
            return true
        case .failure:
            // SPEC §4: a bad chunk after the head went upstream aborts the upstream connection.
            failRequestBody(.badRequest)
            return false
        }
    }

    private func failRequestBody(_ error: GatewayError) {
        if exchange.responseStarted {
            close()
        } else {
            respond(error, close: true)
        }
    }

    private func upstreamWriteFailed() {
        if exchange.responseStarted {
            close()
        } else {
            upstreamFailed(.reset)
        }
    }

    /// The client stopped sending. In a tunnel that is a half-close to pass on; mid-body it is an abort.
    private func clientClosedDuringRequest(_ up: UpstreamConnection) {
        if phase == .tunnel {
            _ = exchange.request.peerClosed()
            Posix.shutdownWrite(up.fd)
            if exchange.response.done { close() }
        } else {
            close()
        }
    }
}
