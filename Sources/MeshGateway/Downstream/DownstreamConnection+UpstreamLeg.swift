import Glibc
import MeshEventLoop
import MeshHTTP1
import MeshPosix
import MeshProxy
import MeshResilience

extension DownstreamConnection {
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
        guard let up = upstream, !exchange.requestAbandoned else { return }
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

    /// The upstream stopped reading the request. It may have answered early (a 413 before the whole body, an
    /// error) and closed: RFC 9112 §9.6. Read what it sent: a complete response head is its answer (the rest
    /// of the client's body is dropped and the client connection closes after it); nothing is a reset.
    private func upstreamWriteFailed() {
        guard !exchange.machine.responseStarted, let up = upstream else {
            close()
            return
        }
        exchange.requestAbandoned = true
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
