import CSSL
import Glibc

/// What a handshake step needs next.
public enum TLSHandshakeResult: Equatable, Sendable {
    /// Waiting for the peer's bytes; nothing is queued to send.
    case needMoreInput
    /// Bytes are queued (`takeCiphertext`); send them, then wait for the peer's answer.
    case wantsWrite
    /// Finished. Bytes may still be queued (TLS 1.3 session tickets): send them too. Application data the peer
    /// sent right behind its Finished may already be buffered: `read` before waiting for the socket.
    case done
    /// Failed; the connection is unusable. A queued alert may be sent before closing.
    case failed(TLSFailure)
}

/// What a plaintext read produced.
public enum TLSReadResult: Equatable, Sendable {
    /// This many plaintext bytes were written into the buffer.
    case bytes(Int)
    /// No complete record yet: feed more ciphertext.
    case needMoreInput
    /// The peer sent close_notify: no more plaintext will come.
    case closed
    /// A protocol error or a truncation without close_notify; the connection is unusable.
    case failed(TLSFailure)
}

/// One TLS connection as a state machine over two memory BIOs: no descriptor, no syscall, no clock. The caller
/// moves ciphertext between the socket and `feed`/`takeCiphertext`, and passes the loop's clock to `handshake`.
///
/// Single-threaded: owned by the worker that owns the socket. Holds its context alive. Memory BIOs grow on
/// demand, so the caller bounds them: it stops reading the socket while plaintext is unread and stops writing
/// plaintext while `pendingCiphertextCount` is above its write buffer (the same back-pressure as plaintext).
public final class TLSConnection {
    private enum State {
        /// Between creation and `.done`.
        case handshaking
        /// Application data flows.
        case established
        /// close_notify received or sent.
        case closed
        /// Failed; every call answers with this failure.
        case failed(TLSFailure)
    }

    private let ssl: OpaquePointer
    /// Owned by `ssl`; replaced by a fresh one when it is empty and has grown (see `trimIdleBIOs`).
    private var readBIO: OpaquePointer
    private var writeBIO: OpaquePointer
    /// The socket reached EOF (carried over to a replacement read BIO).
    private var inputEnded = false
    /// Ciphertext went into the read BIO, or plaintext was sealed into the write BIO, since `trimIdleBIOs` last
    /// looked: only then can that BIO have grown past a record (each look costs two `BIO_ctrl` calls; it looked 8
    /// times per request). libssl's own post-handshake messages are far smaller than a record.
    private var readBIOTouched = false
    private var writeBIOTouched = false
    /// libssl was called since the write BIO was last seen empty: only a call can queue ciphertext, and the event
    /// loop asks whether any is queued ~8 times a request (a `BIO_ctrl` each).
    private var mayHaveCiphertext = true
    /// The context object, kept alive for libssl's callbacks (they reach it through an unretained pointer).
    private let owner: AnyObject
    private let server: TLSServerContext?
    private let handshakeDeadlineMs: Int64
    private var state = State.handshaking
    private var identity: PeerIdentity??

    /// A server connection for one accepted client.
    /// - Parameter handshakeDeadlineMs: on the caller's monotonic clock (the event loop's `nowMs`); a
    ///   `handshake(nowMs:)` at or after it fails with `.handshakeTimeout`.
    public init(server context: TLSServerContext, handshakeDeadlineMs: Int64) throws {
        guard let ssl = context.makeSSL() else { throw TLSConfigurationError("SSL_new: out of memory") }
        (self.ssl, self.owner, self.server, self.handshakeDeadlineMs) = (ssl, context, context, handshakeDeadlineMs)
        (readBIO, writeBIO) = try Self.attachMemoryBIOs(ssl)
        SSL_set_accept_state(ssl)
    }

    /// A client connection to an upstream.
    /// - Parameters:
    ///   - serverName: the name the certificate must carry: a DNS name (also sent as SNI) or an IP literal
    ///     (then an IP SAN must match and no SNI is sent, RFC 6066 §3).
    ///   - session: a session from an earlier connection to the same endpoint, offered for resumption.
    public init(
        client context: TLSClientContext, serverName: String, session: TLSSession? = nil, handshakeDeadlineMs: Int64
    ) throws {
        guard let ssl = SSL_new(context.context) else { throw TLSConfigurationError("SSL_new: out of memory") }
        (self.ssl, self.owner, self.server, self.handshakeDeadlineMs) = (ssl, context, nil, handshakeDeadlineMs)
        (readBIO, writeBIO) = try Self.attachMemoryBIOs(ssl)
        SSL_set_connect_state(ssl)
        let name =
            serverName.hasPrefix("[") && serverName.hasSuffix("]")
            ? String(serverName.dropFirst().dropLast()) : serverName
        if Self.isIPLiteral(name) {
            guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1 else {
                throw TLSConfigurationError("server name \(name): not an IP address libssl accepts")
            }
        } else {
            // RFC 6125 via libssl: SAN dNSName only, whole-label wildcards only.
            SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
            guard SSL_set1_host(ssl, name) == 1, meshgate_ssl_set_host_name(ssl, name) == 1 else {
                throw TLSConfigurationError("server name \(name): \(OpenSSLErrors.text(or: "refused"))")
            }
        }
        // A copy per connection: libssl marks the session it resumed unresumable when that connection is freed
        // without close_notify, which would end resumption for every later connection sharing the TLSSession.
        if let session, let copy = SSL_SESSION_dup(session.session) {
            _ = SSL_set_session(ssl, copy)
            SSL_SESSION_free(copy)
        }
    }

    deinit { SSL_free(ssl) }

    private static func attachMemoryBIOs(_ ssl: OpaquePointer) throws -> (OpaquePointer, OpaquePointer) {
        guard let read = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSConfigurationError("BIO_new: out of memory")
        }
        guard let write = BIO_new(BIO_s_mem()) else {
            BIO_free(read)
            SSL_free(ssl)
            throw TLSConfigurationError("BIO_new: out of memory")
        }
        SSL_set_bio(ssl, read, write)  // the SSL owns both from here
        return (read, write)
    }

    private static func isIPLiteral(_ name: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET, name, &address) == 1 || inet_pton(AF_INET6, name, &address) == 1
    }

    // MARK: - Ciphertext in and out

    /// Appends ciphertext read from the socket (copied; the buffer can be reused at once).
    public func feed(_ ciphertext: UnsafeRawBufferPointer) {
        guard let base = ciphertext.baseAddress, !ciphertext.isEmpty else { return }
        _ = BIO_write(readBIO, base, Int32(ciphertext.count))
        readBIOTouched = true
    }

    /// Appends ciphertext from an array (tests, small inputs).
    public func feed(_ ciphertext: [UInt8]) { ciphertext.withUnsafeBytes { feed($0) } }

    /// The socket reached EOF: libssl then sees the end of input instead of "retry later", so a truncated
    /// stream fails (`.closedByPeer`) rather than waiting for bytes that cannot come.
    public func feedEndOfInput() {
        inputEnded = true
        _ = meshgate_bio_set_mem_eof(readBIO)
    }

    /// Whether the handshake finished (application data may flow).
    public var isEstablished: Bool {
        if case .established = state { return true }
        return false
    }

    /// Bytes queued for the socket.
    public var pendingCiphertextCount: Int {
        guard mayHaveCiphertext else { return 0 }
        let count = Int(BIO_ctrl_pending(writeBIO))
        if count == 0 { mayHaveCiphertext = false }
        return count
    }

    /// Bytes received and not yet read as plaintext: ciphertext fed but not processed, and decrypted bytes
    /// libssl holds (a connection with any is not idle).
    public var bufferedInputCount: Int { Int(BIO_ctrl_pending(readBIO)) + Int(SSL_pending(ssl)) }

    /// Moves up to `buffer.count` queued bytes into `buffer`; returns how many.
    public func takeCiphertext(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard let base = buffer.baseAddress, !buffer.isEmpty, pendingCiphertextCount > 0 else { return 0 }
        let count = max(0, Int(BIO_read(writeBIO, base, Int32(clamping: buffer.count))))
        trimIdleBIOs()
        return count
    }

    /// Every queued byte, as an array (tests, small outputs).
    public func takeCiphertext() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: pendingCiphertextCount) { buffer, count in
            count = takeCiphertext(into: UnsafeMutableRawBufferPointer(buffer))
        }
    }

    // MARK: - Protocol steps

    /// Advances the handshake with the ciphertext fed so far.
    /// - Parameter nowMs: the caller's monotonic clock, compared with the handshake deadline.
    public func handshake(nowMs: Int64) -> TLSHandshakeResult {
        switch state {
        case .established: return .done
        case .closed: return .failed(.closedByPeer)
        case .failed(let failure): return .failed(failure)
        case .handshaking: break
        }
        guard nowMs < handshakeDeadlineMs else { return .failed(fail(.handshakeTimeout)) }
        Self.clearErrorQueue()
        writeBIOTouched = true
        mayHaveCiphertext = true
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            state = .established
            return .done
        }
        let code = SSL_get_error(ssl, result)
        if code == SSL_ERROR_WANT_READ { return pendingCiphertextCount > 0 ? .wantsWrite : .needMoreInput }
        return .failed(fail(TLSFailureClassifier.classify(ssl, code: code)))
    }

    /// Decrypts into `buffer`. Post-handshake messages (tickets, key updates) are handled on the way and may queue
    /// ciphertext: check `pendingCiphertextCount` after reading.
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> TLSReadResult {
        switch state {
        case .established: break
        case .closed: return .closed
        case .failed(let failure): return .failed(failure)
        case .handshaking: return .needMoreInput
        }
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return .bytes(0) }
        // Nothing fed and nothing buffered (not even part of a record): libssl could only say "want read". Asked
        // anyway, it cost a trip through its record layer twice a request (a read before the socket read, and the
        // read that finds the input drained).
        if !inputEnded && BIO_ctrl_pending(readBIO) == 0 && SSL_has_pending(ssl) == 0 { return .needMoreInput }
        Self.clearErrorQueue()
        // Post-handshake messages (a key update) may be answered on the way.
        mayHaveCiphertext = true
        var count = 0
        if SSL_read_ex(ssl, base, buffer.count, &count) == 1 {
            trimIdleBIOs()
            return .bytes(count)
        }
        switch SSL_get_error(ssl, 0) {
        case SSL_ERROR_WANT_READ:
            trimIdleBIOs()
            return .needMoreInput
        case SSL_ERROR_ZERO_RETURN:
            state = .closed
            return .closed
        case let code: return .failed(fail(TLSFailureClassifier.classify(ssl, code: code)))
        }
    }

    /// Encrypts all of `plaintext` into the outgoing queue (memory BIOs never refuse a write).
    /// - Returns: nil on success, or the failure (not established, or a protocol error).
    public func write(_ plaintext: UnsafeRawBufferPointer) -> TLSFailure? {
        switch state {
        case .established: break
        case .closed, .handshaking: return .protocolError("write outside an established connection")
        case .failed(let failure): return failure
        }
        guard let base = plaintext.baseAddress, !plaintext.isEmpty else { return nil }
        Self.clearErrorQueue()
        writeBIOTouched = true
        mayHaveCiphertext = true
        var written = 0
        if SSL_write_ex(ssl, base, plaintext.count, &written) == 1 { return nil }
        return fail(TLSFailureClassifier.classify(ssl, code: SSL_get_error(ssl, 0)))
    }

    /// Queues close_notify (sent by the next `takeCiphertext`); the connection takes no more plaintext.
    public func shutdown() {
        guard case .established = state else { return }
        Self.clearErrorQueue()
        writeBIOTouched = true
        mayHaveCiphertext = true
        _ = SSL_shutdown(ssl)
        Self.clearErrorQueue()
        state = .closed
    }

    /// What an empty memory BIO may keep allocated: one full record (16 KiB plus header, MAC and padding). A
    /// memory BIO grows to its peak and never shrinks, so without this a keep-alive connection would hold its
    /// largest response's ciphertext for as long as it idles; replacing costs one allocation per flush larger
    /// than a record, none for small exchanges.
    static let idleBIOCapacity = 17 * 1024

    /// Swaps an empty, grown BIO for a fresh one (established connections only: during the handshake libssl
    /// wraps the write BIO in a buffering BIO of its own).
    private func trimIdleBIOs() {
        guard case .established = state else { return }
        if writeBIOTouched, BIO_ctrl_pending(writeBIO) == 0 {
            writeBIOTouched = false
            if meshgate_bio_mem_capacity(writeBIO) > Self.idleBIOCapacity, let fresh = BIO_new(BIO_s_mem()) {
                SSL_set0_wbio(ssl, fresh)  // frees the old one
                writeBIO = fresh
            }
        }
        if readBIOTouched, BIO_ctrl_pending(readBIO) == 0 {
            readBIOTouched = false
            guard meshgate_bio_mem_capacity(readBIO) > Self.idleBIOCapacity, let fresh = BIO_new(BIO_s_mem()) else {
                return
            }
            if inputEnded { _ = meshgate_bio_set_mem_eof(fresh) }
            SSL_set0_rbio(ssl, fresh)
            readBIO = fresh
        }
    }

    /// Empties this thread's error queue before a call whose failure `SSL_get_error` reads from it. Looked at
    /// first: clearing walks every slot of the queue even when it is empty (~800 instructions a call, 3-4 calls a
    /// request), and the queue is empty unless an earlier call on this thread failed.
    @inline(__always)
    static func clearErrorQueue() {
        if ERR_peek_error() != 0 { ERR_clear_error() }
    }

    /// Bytes both memory BIOs hold allocated (tests of `idleBIOCapacity`).
    var bufferedCapacity: Int {
        Int(meshgate_bio_mem_capacity(readBIO)) + Int(meshgate_bio_mem_capacity(writeBIO))
    }

    private func fail(_ failure: TLSFailure) -> TLSFailure {
        state = .failed(failure)
        return failure
    }

    // MARK: - What was negotiated

    /// The ALPN protocol agreed on, nil when the client offered none.
    public var negotiatedProtocol: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// "TLSv1.2" or "TLSv1.3" (the access log's `tls_version`).
    public var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    /// Whether the handshake resumed a session (ticket) instead of a full exchange.
    public var sessionReused: Bool { SSL_session_reused(ssl) == 1 }

    /// The SNI host name: the one the client sent (server side, nil when none), or the one sent (client side).
    public var serverName: String? {
        SSL_get_servername(ssl, Int32(TLSEXT_NAMETYPE_host_name)).map { String(cString: $0) }
    }

    /// On a server connection, the index of the certificate pair served (after SNI selection).
    public var certificateIndex: Int? {
        guard let server else { return nil }
        let current = SSL_get_SSL_CTX(ssl)
        return server.contexts.firstIndex { $0 == current }
    }

    /// The peer's certificate identity, when it sent one and it verified (a client certificate on a server with
    /// a client CA; the server's certificate on a client). Computed once.
    public var peerIdentity: PeerIdentity? {
        if let identity { return identity }
        guard case .established = state, SSL_get_verify_result(ssl) == X509_V_OK,
            let certificate = SSL_get0_peer_certificate(ssl)
        else { return nil }
        let computed = PeerIdentity(certificate: certificate)
        identity = .some(computed)
        return computed
    }

    /// A client connection's session for resumption, once the server sent one (TLS 1.3 tickets arrive after
    /// the handshake: read at least once first); nil when none is resumable.
    ///
    /// A copy: libssl marks a connection's own session unresumable when the connection is freed without
    /// close_notify, which is how most upstream connections end; the copy stays usable for the pool.
    public var session: TLSSession? {
        guard let current = SSL_get_session(ssl), SSL_SESSION_is_resumable(current) == 1,
            let copy = SSL_SESSION_dup(current)
        else { return nil }
        return TLSSession(owning: copy)
    }
}
