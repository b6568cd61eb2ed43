import MeshEventLoop
import MeshProxy
import MeshTLS

/// The TLS side of reading a client: the handshake's outcome is counted once per connection (SPEC §9), and its
/// end starts the header timeout.
extension DownstreamConnection {
    func readClientTLS(_ tls: ClientTLS, space: Int) -> ReadOutcome {
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
    func countHandshake(_ tls: ClientTLS, success: Bool) {
        guard !tls.handshakeCounted else { return }
        tls.handshakeCounted = true
        let binding = acceptedOn.binding
        binding.generation.telemetry.tlsHandshake(listener: binding.listenerIndex, success: success)
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
        respond(.httpsRequired, close: !exchange.request.done, extraHeader: location)
    }

    func closeTLS(_ tls: ClientTLS) {
        countHandshake(tls, success: false)
        tls.closeNotify(fd: fd)
        tls.releaseBlock()
    }
}
