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
        guard let connection = openUpstream(endpoint) else { return }
        endpoint.opened()
        connection.activate(owner: self)
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

    /// A new non-blocking connection to `endpoint` — for an h2c endpoint a channel on its HTTP/2 connection (SPEC
    /// §10), to the exchange a connected HTTP/1.1 connection; nil when it could not be made (the exchange was
    /// answered).
    private func openUpstream(_ endpoint: EndpointPool) -> UpstreamConnection? {
        let fd: Int32
        let connected: Bool
        var channel: H2UpstreamChannel?
        if endpoint.http2 {
            do {
                (fd, channel) = try endpoint.openH2Channel()
            } catch {
                connectFailed(error)
                return nil
            }
            connected = true
        } else {
            do {
                fd = try Sockets.stream(family: endpoint.address.family)
            } catch {
                localConnectFailure(error)
                return nil
            }
            do {
                switch try Posix.connect(fd, endpoint.address) {
                case .processed: connected = true
                case .wouldBlock: connected = false
                }
            } catch {
                Posix.close(fd)
                connectFailed(error)
                return nil
            }
        }
        do {
            let connection = try UpstreamConnection(worker: worker, pool: endpoint, fd: fd, connected: connected)
            connection.h2Channel = channel
            return connection
        } catch {
            Posix.close(fd)
            localConnectFailure(error)
            return nil
        }
    }

    /// A connect that failed: ours to answer when this process ran out of something, else the endpoint's failure.
    private func connectFailed(_ error: SystemError) {
        if DownstreamConnection.isLocalFailure(error.errno) {
            localConnectFailure(error)
        } else {
            attemptFailed(.connectFailure)
        }
    }

    /// Errors of `socket`/`connect`/registration that say this process (or host) ran out of something, not
    /// that the endpoint failed: descriptors, memory, local ports.
    static func isLocalFailure(_ errno: Int32) -> Bool {
        switch errno {
        case EMFILE, ENFILE, ENOBUFS, ENOMEM, EADDRNOTAVAIL, EAGAIN, ENOSPC: true
        default: false
        }
    }

    /// No socket to the endpoint could be made for a local reason: answer 503 without judging the endpoint
    /// (its breaker is shared by every worker; our descriptor shortage must not open it) and without
    /// retrying (a retry would hit the same shortage). Not logged per request: under descriptor exhaustion
    /// that would be a log storm; the access log carries the 503.
    private func localConnectFailure(_ error: SystemError) {
        respond(.unavailable, close: false)
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
            guard up.writable else { return }
            guard Posix.socketError(up.fd) == 0 else {
                attemptFailed(.connectFailure)
                return
            }
            if up.pool.connectionTLS != nil {
                guard upstreamHandshake(up) else { return }
            }
            up.state = .active
            exchange.machine.connected(now: worker.loop.nowMs)
            syncTimer()
        }
        while phase == .proxying || phase == .tunnel {
            if !toUpstream.isEmpty {
                guard up.writable else { return }
                switch flushUpstream(up) {
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
            if !buffer.isEmpty {
                guard forwardBufferedRequestBody() else { return }
                continue
            }
            guard readable else { return }
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
        switch exchange.machine.requestBody(buffer.readable, now: worker.loop.nowMs) {
        case .forward(let step):
            toUpstream.queueBody(
                UnsafeRawBufferPointer(rebasing: buffer.readable[0..<step.forward]), thenCRLF: step.endsBody)
            buffer.start += step.consumed
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
