import Glibc
import MeshEventLoop
import MeshPosix
import MeshTLS

/// TLS between a socket and the plaintext the exchange reads and writes, on either side (a client of a TLS
/// listener, or a TLS upstream): ciphertext moves here between the socket and the `TLSConnection`'s memory
/// BIOs, so the exchange code is the same with and without TLS. Worker thread only.
///
/// Memory: ciphertext read from the socket goes through the worker's shared scratch block straight into the
/// read BIO; ciphertext to send is taken into a pool block only while the socket cannot take it all, and
/// plaintext is encrypted at most `batchBytes` ahead of the socket (the back-pressure of the cleartext path).
public final class TLSStream {
    public let connection: TLSConnection
    /// The socket may have more bytes (edge-triggered: set by readable events, cleared on EAGAIN).
    public var socketReadable = true
    /// The client's FIN arrived (told to libssl, which then fails a truncated record instead of waiting).
    public private(set) var socketEnded = false
    /// epoll reported the peer's FIN or RST: a short socket read no longer means drained (the end is still to
    /// be read, and edge-triggered epoll will not report it again).
    public var peerHungUp = false
    /// The handshake's outcome was counted (`meshgate_tls_handshakes_total` counts each connection once).
    public var handshakeCounted = false
    /// The verified peer certificate, read once the handshake is done (nil: none, or not verified).
    public private(set) var identity: PeerIdentity?
    /// `identity` as the `x-forwarded-client-cert` value, empty without one.
    public private(set) var forwardedClientCert: [UInt8] = []
    /// "TLSv1.2" / "TLSv1.3" once established (the access log's `tls_version`).
    public private(set) var version = ""
    /// ALPN chose `h2` (SPEC §10): the client starts with the HTTP/2 preface.
    public private(set) var speaksHTTP2 = false
    /// Ciphertext taken from the write BIO that the socket has not accepted yet.
    private var pending: UnsafeMutableRawPointer?
    private var pendingStart = 0
    private var pendingEnd = 0
    private let pool: BufferPool

    /// Plaintext encrypted per step before the socket must take it: 4 full records.
    public static let batchBytes = 64 * 1024

    public init(_ connection: TLSConnection, pool: BufferPool) {
        self.connection = connection
        self.pool = pool
    }

    public enum ReadOutcome {
        case bytes(Int)
        /// The handshake finished just now (count it, start the header timeout); read again.
        case established
        case drained
        case eof
        case failed(TLSFailure?)
    }

    /// Advances the handshake, then decrypts into `space`, reading the socket through `scratch` when libssl
    /// needs more bytes.
    public func read(
        fd: Int32, into space: UnsafeMutableRawBufferPointer, scratch: UnsafeMutableRawBufferPointer, nowMs: Int64
    ) -> ReadOutcome {
        while true {
            if !connection.isEstablished {
                switch connection.handshake(nowMs: nowMs) {
                case .done:
                    // RFC 8737 §3: a tls-alpn-01 validation ends with the handshake; it never carries HTTP.
                    if connection.negotiatedProtocol == "acme-tls/1" { connection.shutdown() }
                    _ = sendPending(fd: fd)
                    identity = connection.peerIdentity
                    forwardedClientCert = identity.map { Array($0.forwardedClientCert.utf8) } ?? []
                    version = connection.protocolVersion
                    speaksHTTP2 = connection.negotiatedProtocol == "h2"
                    return .established
                case .needMoreInput, .wantsWrite:
                    if case .failed = sendPending(fd: fd) { return .failed(nil) }
                case .failed(let failure):
                    _ = sendPending(fd: fd)  // the alert, best effort
                    return .failed(failure)
                }
            } else {
                switch connection.read(into: space) {
                case .bytes(let n) where n > 0:
                    return .bytes(n)
                case .bytes:
                    return .drained  // no space: the caller reads again once it has some
                case .closed:
                    return .eof
                case .failed(let failure):
                    // A FIN without close_notify ends the stream like a cleartext FIN (HTTP framing, not TLS,
                    // says whether a request was complete).
                    return socketEnded ? .eof : .failed(failure)
                case .needMoreInput:
                    // Post-handshake messages (a key update) may want an answer.
                    if connection.pendingCiphertextCount > 0, case .failed = sendPending(fd: fd) {
                        return .failed(nil)
                    }
                }
            }
            if socketEnded { return connection.isEstablished ? .eof : .failed(.closedByPeer) }
            guard socketReadable else { return .drained }
            switch readSocket(fd: fd, scratch: scratch) {
            case .drained: return .drained
            case .failed: return .failed(nil)
            case .fed: continue
            }
        }
    }

    /// Advances the handshake alone (no application bytes are taken), staging socket reads in a pooled block.
    public func handshakeStep(fd: Int32, nowMs: Int64) -> ReadOutcome {
        let block = pool.take()
        defer { pool.give(block) }
        let staging = UnsafeMutableRawBufferPointer(start: block, count: pool.bufferSize)
        return read(fd: fd, into: UnsafeMutableRawBufferPointer(start: nil, count: 0), scratch: staging, nowMs: nowMs)
    }

    private enum SocketRead { case fed, drained, failed }

    private func readSocket(fd: Int32, scratch: UnsafeMutableRawBufferPointer) -> SocketRead {
        do {
            switch try Posix.receive(fd, scratch.baseAddress!, scratch.count) {
            case .wouldBlock:
                socketReadable = false
                return .drained
            case .processed(0):
                socketReadable = false
                socketEnded = true
                connection.feedEndOfInput()
                return .fed
            case .processed(let n):
                // A short read means drained (saves the read that would only say EAGAIN), unless epoll already
                // reported the peer's end: then it is still to be read, and will not be reported again. An end
                // that arrives after this read is a new event.
                if n < scratch.count && !peerHungUp { socketReadable = false }
                connection.feed(UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
                return .fed
            }
        } catch {
            socketReadable = false
            return .failed
        }
    }

    /// Whether ciphertext waits for the socket.
    public var hasPendingOutput: Bool { pendingEnd > pendingStart || connection.pendingCiphertextCount > 0 }

    /// Encrypts what `outbound` holds and sends it; the result means what `Outbound.flush`'s does.
    public func flush(_ outbound: inout Outbound, fd: Int32) -> Outbound.FlushResult {
        while true {
            switch sendPending(fd: fd) {
            case .blocked: return .blocked
            case .failed(let error): return .failed(error)
            case .done: break
            }
            if outbound.isEmpty { return .done }
            if outbound.count <= Self.recordBytes {
                if let failure = writeOneRecord(&outbound) {
                    return .failed(SystemError(errno: EPROTO, call: "TLS write: \(failure)"))
                }
                continue
            }
            let connection = self.connection
            do throws(TLSFailure) {
                _ = try outbound.drain(limit: Self.batchBytes, pool: pool) { bytes throws(TLSFailure) in
                    if let failure = connection.write(bytes) { throw failure }
                }
            } catch {
                return .failed(SystemError(errno: EPROTO, call: "TLS write: \(error)"))
            }
        }
    }

    /// Largest plaintext of one TLS record (RFC 8446 §5.1).
    public static let recordBytes = 16 * 1024

    /// Encrypts a small response (or request) whose head and body are queued apart as ONE record, as nginx's
    /// `ssl_buffer_size` does: a record per part costs a seal and 22+ bytes more per part.
    private func writeOneRecord(_ outbound: inout Outbound) -> TLSFailure? {
        let block = pool.take()
        defer { pool.give(block) }
        var count = 0
        _ = outbound.drain(limit: Self.recordBytes, pool: pool) { (bytes: UnsafeRawBufferPointer) in
            if let base = bytes.baseAddress { memcpy(block + count, base, bytes.count) }
            count += bytes.count
        }
        return connection.write(UnsafeRawBufferPointer(start: block, count: count))
    }

    /// Sends queued ciphertext; `.done` when nothing is left. Ciphertext is taken from the write BIO into a pool
    /// block that is held only while the socket refuses part of it.
    public func sendPending(fd: Int32) -> Outbound.FlushResult {
        while true {
            if pendingStart == pendingEnd {
                guard connection.pendingCiphertextCount > 0 else {
                    releaseBlock()
                    return .done
                }
                if pending == nil { pending = pool.take() }
                pendingStart = 0
                pendingEnd = connection.takeCiphertext(
                    into: UnsafeMutableRawBufferPointer(start: pending, count: pool.bufferSize))
            }
            do {
                switch try Posix.write(fd, pending! + pendingStart, pendingEnd - pendingStart) {
                case .wouldBlock: return .blocked
                case .processed(let n): pendingStart += n
                }
            } catch {
                return .failed(error)
            }
        }
    }

    /// Queues close_notify and sends it if the socket takes it now (a clean end for clients that check).
    public func closeNotify(fd: Int32) {
        guard connection.isEstablished else { return }
        connection.shutdown()
        _ = sendPending(fd: fd)
    }

    /// Gives the staging block back (the connection is closing).
    public func releaseBlock() {
        if let block = pending { pool.give(block) }
        pending = nil
        pendingStart = 0
        pendingEnd = 0
    }
}
