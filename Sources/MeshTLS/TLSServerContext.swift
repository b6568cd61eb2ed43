import CSSL

/// How a TLS listener negotiates, beyond its certificates (SPEC §9 `tls` object).
public struct TLSServerOptions: Sendable {
    /// Lowest protocol version (1.2 or 1.3); 1.3 is always the highest.
    public var minimumVersion: TLSVersion = .tls12
    /// ALPN protocols in server preference order. A client offering none of them gets a fatal
    /// no_application_protocol alert (RFC 7301 §3.2); a client offering no ALPN at all is served HTTP/1.1.
    public var alpn: [String] = ["http/1.1"]
    /// PEM file of CAs that client certificates must chain to; nil means client certificates are not requested.
    public var clientCAFile: String?
    /// With `clientCAFile`: a handshake without a client certificate fails.
    public var requireClientCert = false
    /// RFC 8737 (SPEC §12 ACME): tls-alpn-01 certificates, answered to a ClientHello offering `acme-tls/1` for one
    /// of their domains; nil when the listener does not validate that way.
    public var acmeChallenges: ACMEChallengeCertificates?

    /// Defaults: TLS 1.2+, `http/1.1`, no client certificates.
    public init() {}
}

/// The server side of TLS for one listener: one `SSL_CTX` per certificate pair, the SNI table that picks among
/// them, ALPN and session tickets. Immutable after `init` (ticket key rotation is internally locked), shared by
/// every worker thread; each connection holds a reference for its lifetime.
public final class TLSServerContext: @unchecked Sendable {
    /// Mozilla "intermediate" for TLS 1.2: forward-secret AEAD suites only. TLS 1.3 suites stay libssl's
    /// defaults (AES-GCM and ChaCha20-Poly1305), which are already that list.
    public static let tls12Ciphers =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        + "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

    /// The pairs, in configuration order; pair 0 is the default certificate.
    public let certificates: [CertificatePair]
    /// The options the context was built with.
    public let options: TLSServerOptions
    /// The ticket keys (pass the same ring to the next context on reload so tickets survive it).
    public let ticketKeys: TicketKeyRing
    /// One context per pair, same index; connections start on contexts[0] and SNI may move them.
    let contexts: [OpaquePointer]
    private let names: ServerNameTable
    /// ALPN list in wire format (length-prefixed names), read by the selection callback. Owned memory, not an
    /// array: libssl keeps the selected pointer into it after the callback returns.
    private let alpnWire: UnsafeMutableBufferPointer<UInt8>

    /// Builds the contexts.
    /// - Parameters:
    ///   - certificates: at least one loaded pair; the first is served without SNI or without a match.
    ///   - ticketKeys: the listener's ring; a new one when nil.
    /// - Throws: `TLSConfigurationError` (no pair, bad ALPN name), `TLSLoadError` (client CA file).
    public init(
        certificates: [CertificatePair], options: TLSServerOptions = TLSServerOptions(),
        ticketKeys: TicketKeyRing? = nil
    ) throws {
        guard !certificates.isEmpty else {
            throw TLSConfigurationError("a TLS listener needs at least one certificate")
        }
        let wire = try ALPN.wireFormat(options.alpn)
        let clientCAs = try options.clientCAFile.map { file throws(TLSLoadError) in try PEMFile.certificates(file) }
        defer { clientCAs?.forEach { X509_free($0) } }
        var contexts: [OpaquePointer] = []
        for pair in certificates {
            do {
                contexts.append(try Self.makeContext(pair: pair, options: options, clientCAs: clientCAs ?? []))
            } catch {
                contexts.forEach { SSL_CTX_free($0) }
                throw error
            }
        }
        self.certificates = certificates
        self.options = options
        self.ticketKeys = ticketKeys ?? TicketKeyRing()
        self.contexts = contexts
        self.names = ServerNameTable(namesPerPair: certificates.map(\.dnsNames))
        self.alpnWire = .allocate(capacity: wire.count)
        _ = alpnWire.initialize(from: wire)
        let me = Unmanaged.passUnretained(self).toOpaque()
        for context in contexts {
            // Callbacks reach this object through the context: the arg for SNI and ALPN, ex-data slot 0
            // (reserved for application data) for tickets, whose callback takes no arg. Connections keep the
            // object alive, so the pointer never dangles while libssl can call back.
            SSL_CTX_set_ex_data(context, 0, me)
            meshgate_ssl_ctx_set_servername_cb(context, serverNameCallback, me)
            SSL_CTX_set_alpn_select_cb(context, alpnSelectCallback, me)
            _ = SSL_CTX_set_tlsext_ticket_key_evp_cb(context, ticketKeyCallback)
        }
    }

    deinit {
        contexts.forEach { SSL_CTX_free($0) }
        alpnWire.deallocate()
    }

    /// The index of the pair served for an SNI name (nil: none sent). Exposed for `/config` and tests.
    public func certificateIndex(forServerName name: String?) -> Int { names.select(name) }

    /// A new `SSL` for one accepted connection, on the default context.
    func makeSSL() -> OpaquePointer? { SSL_new(contexts[0]) }

    private static func makeContext(
        pair: CertificatePair, options: TLSServerOptions, clientCAs: [OpaquePointer]
    ) throws -> OpaquePointer {
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw TLSConfigurationError("SSL_CTX_new: \(OpenSSLErrors.text(or: "out of memory"))")
        }
        do {
            try configureCommon(context, minimumVersion: options.minimumVersion)
            _ = SSL_CTX_set_options(context, meshgate_ssl_op_server_preference())
            _ = meshgate_ssl_ctx_set_one_ticket(context)
            // Resumption by tickets only: no per-worker session-ID cache that other workers could not see.
            _ = meshgate_ssl_ctx_session_cache_mode(context, meshgate_sess_cache_off())
            // A session resumes only on a context with the same client-certificate policy.
            let sessionContext: [UInt8] = Array("meshgate/\(options.requireClientCert)/\(!clientCAs.isEmpty)".utf8)
            _ = SSL_CTX_set_session_id_context(context, sessionContext, UInt32(sessionContext.count))
            if !clientCAs.isEmpty {
                let store = SSL_CTX_get_cert_store(context)
                for ca in clientCAs {
                    _ = X509_STORE_add_cert(store, ca)
                    _ = SSL_CTX_add_client_CA(context, ca)
                }
                let mode = SSL_VERIFY_PEER | (options.requireClientCert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0)
                SSL_CTX_set_verify(context, mode, nil)
            }
            if let reason = pair.install(into: context) {
                throw TLSLoadError(file: pair.certFile, reason: .rejected(reason))
            }
            return context
        } catch {
            SSL_CTX_free(context)
            throw error
        }
    }

    /// Settings every meshgate context shares, server or client: versions, TLS 1.2 ciphers, no renegotiation
    /// or compression, buffers released while idle.
    static func configureCommon(
        _ context: OpaquePointer, minimumVersion: TLSVersion, maximumVersion: TLSVersion = .tls13
    ) throws {
        guard meshgate_ssl_ctx_set_min_proto(context, minimumVersion.openSSLVersion) == 1,
            meshgate_ssl_ctx_set_max_proto(context, maximumVersion.openSSLVersion) == 1,
            SSL_CTX_set_cipher_list(context, tls12Ciphers) == 1
        else { throw TLSConfigurationError("TLS settings: \(OpenSSLErrors.text(or: "refused"))") }
        _ = SSL_CTX_set_options(context, meshgate_ssl_op_hardening())
        _ = meshgate_ssl_ctx_release_buffers(context)
    }

    // MARK: - Callbacks (called by libssl on the connection's thread)

    fileprivate func selectCertificate(_ ssl: OpaquePointer) {
        let name = SSL_get_servername(ssl, Int32(TLSEXT_NAMETYPE_host_name)).map { String(cString: $0) }
        let index = names.select(name)
        if index != 0 { _ = SSL_set_SSL_CTX(ssl, contexts[index]) }
    }

    fileprivate func selectProtocol(
        _ ssl: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
        _ outLength: UnsafeMutablePointer<UInt8>?, _ offered: UnsafePointer<UInt8>?, _ offeredLength: UInt32
    ) -> Int32 {
        if let challenges = options.acmeChallenges, let ssl, ACMEChallengeCertificates.offered(offered, offeredLength) {
            return selectACME(ssl, challenges, out, outLength)
        }
        var selected: UnsafeMutablePointer<UInt8>?
        var length: UInt8 = 0
        // Server preference: SSL_select_next_proto walks our list and takes the first the client offered.
        let result = SSL_select_next_proto(
            &selected, &length, alpnWire.baseAddress, UInt32(alpnWire.count), offered, offeredLength)
        guard result == OPENSSL_NPN_NEGOTIATED, let selected else { return meshgate_tlsext_err_alert_fatal() }
        // `selected` points into alpnWire or the ClientHello, both alive until the handshake ends.
        out?.pointee = UnsafePointer(selected)
        outLength?.pointee = length
        return meshgate_tlsext_err_ok()
    }
}

extension TLSServerContext {
    /// RFC 8737 §3: a ClientHello offering `acme-tls/1` gets the challenge certificate of its SNI name and that
    /// protocol, or a fatal alert when no challenge is being served for the name. libssl calls ALPN selection
    /// before it picks the certificate, so replacing the connection's certificate here is what the validator
    /// sees (Apache's mod_md does the same). The connection then closes after the handshake (no HTTP).
    fileprivate func selectACME(
        _ ssl: OpaquePointer, _ challenges: ACMEChallengeCertificates,
        _ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, _ outLength: UnsafeMutablePointer<UInt8>?
    ) -> Int32 {
        guard let name = SSL_get_servername(ssl, Int32(TLSEXT_NAMETYPE_host_name)).map({ String(cString: $0) }),
            let entry = challenges.entry(for: name),
            SSL_use_certificate(ssl, entry.certificate) == 1, SSL_use_PrivateKey(ssl, entry.key) == 1
        else {
            ERR_clear_error()
            return meshgate_tlsext_err_alert_fatal()
        }
        out?.pointee = UnsafePointer(acmeProtocolWire.baseAddress! + 1)
        outLength?.pointee = UInt8(ACMEChallengeCertificates.protocolName.count)
        return meshgate_tlsext_err_ok()
    }
}

/// `acme-tls/1` in wire format, alive for the process (libssl keeps the selected pointer after the callback).
nonisolated(unsafe) private let acmeProtocolWire: UnsafeMutableBufferPointer<UInt8> = {
    let wire = [UInt8(ACMEChallengeCertificates.protocolName.count)] + ACMEChallengeCertificates.protocolName
    let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: wire.count)
    _ = buffer.initialize(from: wire)
    return buffer
}()

private func serverNameCallback(
    _ ssl: OpaquePointer?, _ alert: UnsafeMutablePointer<Int32>?, _ arg: UnsafeMutableRawPointer?
) -> Int32 {
    guard let ssl, let arg else { return meshgate_tlsext_err_ok() }
    Unmanaged<TLSServerContext>.fromOpaque(arg).takeUnretainedValue().selectCertificate(ssl)
    return meshgate_tlsext_err_ok()
}

private func alpnSelectCallback(
    _ ssl: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
    _ outLength: UnsafeMutablePointer<UInt8>?, _ offered: UnsafePointer<UInt8>?, _ offeredLength: UInt32,
    _ arg: UnsafeMutableRawPointer?
) -> Int32 {
    guard let arg else { return meshgate_tlsext_err_noack() }
    let context = Unmanaged<TLSServerContext>.fromOpaque(arg).takeUnretainedValue()
    return context.selectProtocol(ssl, out, outLength, offered, offeredLength)
}

private func ticketKeyCallback(
    _ ssl: OpaquePointer?, _ name: UnsafeMutablePointer<UInt8>?, _ iv: UnsafeMutablePointer<UInt8>?,
    _ cipher: OpaquePointer?, _ mac: OpaquePointer?, _ encrypt: Int32
) -> Int32 {
    guard let ssl, let name, let iv, let cipher, let mac,
        let arg = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), 0)
    else { return -1 }
    let context = Unmanaged<TLSServerContext>.fromOpaque(arg).takeUnretainedValue()
    return context.ticketKeys.ticketCallback(name: name, iv: iv, cipher: cipher, mac: mac, encrypt: encrypt != 0)
}

/// ALPN protocol lists in wire format (RFC 7301 §3.1: each name prefixed by its one-byte length).
enum ALPN {
    static func wireFormat(_ protocols: [String]) throws(TLSConfigurationError) -> [UInt8] {
        guard !protocols.isEmpty else { throw TLSConfigurationError("alpn must list at least one protocol") }
        var wire: [UInt8] = []
        for name in protocols {
            let bytes = Array(name.utf8)
            guard (1...255).contains(bytes.count) else {
                throw TLSConfigurationError("alpn protocol \"\(name)\" must be 1 to 255 bytes")
            }
            wire.append(UInt8(bytes.count))
            wire.append(contentsOf: bytes)
        }
        return wire
    }
}
