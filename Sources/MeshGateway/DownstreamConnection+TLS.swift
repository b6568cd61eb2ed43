import MeshControl
import MeshEventLoop
import MeshPosix
import MeshProxy
import MeshTLS

/// The TLS side of reading a client: the handshake's outcome is counted once per connection (SPEC §9), and its
/// end starts the header timeout.
extension DownstreamConnection {
    func readClientTLS(_ tls: TLSStream, space: Int) -> ReadOutcome {
        let scratch = worker.pool.take()
        defer { worker.pool.give(scratch) }
        let into = UnsafeMutableRawBufferPointer(start: buffer.base! + buffer.end, count: space)
        let staging = UnsafeMutableRawBufferPointer(start: scratch, count: worker.pool.bufferSize)
        while true {
            switch tls.read(fd: fd, into: into, scratch: staging, nowMs: worker.loop.nowMs) {
            case .bytes(let n):
                buffer.end += n
                return .data
            case .established:
                countHandshake(tls, success: true)
                setDeadline(.deadline(worker.loop.nowMs, plusMs: worker.config.source.limits.headerTimeoutMs))
            case .drained:
                // Drained means libssl needs socket bytes that are not there yet (a partial record may be
                // buffered): only a readable event helps. Plaintext left over from a full `into` is returned
                // as `.data`, which keeps `readable`.
                readable = false
                return .drained
            case .eof:
                readable = false
                peerClosed = true
                return .eof
            case .failed:
                readable = false
                return .failed
            }
        }
    }

    /// `meshgate_tls_handshakes_total`: each accepted connection once, success or not.
    func countHandshake(_ tls: TLSStream, success: Bool) {
        guard !tls.handshakeCounted else { return }
        tls.handshakeCounted = true
        let binding = acceptedOn.binding
        binding.generation.telemetry.tlsHandshake(listener: binding.listenerIndex, success: success)
    }

    // MARK: - TLS upstreams

    /// Makes the TLS client of a freshly connected upstream (if not made yet) and advances its handshake; true
    /// once established. A failed handshake (wrong name, untrusted certificate, no common protocol) is a
    /// connect failure: retried and counted like one, a 502 in the end.
    func upstreamHandshake(_ up: UpstreamConnection) -> Bool {
        guard let settings = up.pool.connectionTLS else { return true }
        if up.tls == nil {
            do {
                // The exchange's timer bounds the handshake (connect_timeout_ms); libssl's own deadline is off.
                let connection = try TLSConnection(
                    client: settings.context, serverName: settings.serverName, session: up.pool.session,
                    handshakeDeadlineMs: .max)
                up.tls = TLSStream(connection, pool: worker.pool)
            } catch {
                attemptFailed(.connectFailure)
                return false
            }
        }
        switch up.tls!.handshakeStep(fd: up.fd, nowMs: worker.loop.nowMs) {
        case .established:
            return true
        case .drained, .bytes:
            up.readable = false
            return false
        case .eof, .failed:
            attemptFailed(.connectFailure)
            return false
        }
    }

    /// Reads response bytes through the upstream's TLS, answering like `Posix.read`: `.processed(0)` is the
    /// end of the stream (a close_notify or a FIN), a TLS failure is thrown away as a reset would be.
    func readUpstreamTLS(_ up: UpstreamConnection, _ tls: TLSStream, space: Int) -> IOResult<Int> {
        let scratch = worker.pool.take()
        defer { worker.pool.give(scratch) }
        let into = UnsafeMutableRawBufferPointer(start: up.buffer.base! + up.buffer.end, count: space)
        let staging = UnsafeMutableRawBufferPointer(start: scratch, count: worker.pool.bufferSize)
        switch tls.read(fd: up.fd, into: into, scratch: staging, nowMs: worker.loop.nowMs) {
        case .bytes(let n):
            // The first response on a full handshake carries the session (TLS 1.3 tickets come after the
            // handshake): keep it for the next connection to this endpoint.
            if !tls.handshakeCounted {
                tls.handshakeCounted = true
                if !tls.connection.sessionReused, let session = tls.connection.session { up.pool.session = session }
            }
            return .processed(n)
        case .drained, .established:
            return .wouldBlock
        case .eof, .failed:
            return .processed(0)
        }
    }

    /// Sends what `toUpstream` holds, through the upstream's TLS when it has one.
    func flushUpstream(_ up: UpstreamConnection) -> Outbound.FlushResult {
        if let tls = up.tls { return tls.flush(&toUpstream, fd: up.fd) }
        return toUpstream.flush(up.fd, pool: worker.pool)
    }

    /// SPEC §9 `redirect_to_https`: a 308 to the same host and target over HTTPS. The host is copied into
    /// `location`, so only a plain name or address literal is accepted (anything else is a 400).
    func redirectToHTTPS(_ view: RequestView, port: Int) {
        let host = Bytes.hostWithoutPort(view.authority)
        let bracketed = host.first == UInt8(ascii: "[")
        let plain = host.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"):
                true
            case UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: ":"): bracketed
            default: false
            }
        }
        guard !host.isEmpty, plain else {
            respond(.badRequest, close: true)
            return
        }
        var location = "location: https://" + String(decoding: host, as: UTF8.self)
        if port != 443 { location += ":\(port)" }
        location += String(decoding: view.rawPath, as: UTF8.self) + String(decoding: view.query, as: UTF8.self)
        respond(.httpsRequired, close: !exchange.machine.request.done, extraHeader: location)
    }

    func closeTLS(_ tls: TLSStream) {
        countHandshake(tls, success: false)
        tls.closeNotify(fd: fd)
        tls.releaseBlock()
    }
}
