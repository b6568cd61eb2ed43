import CSSL

/// Upstream TLS settings (SPEC §9 upstream `tls` object).
public struct TLSClientOptions: Sendable {
    /// PEM CAs the server must chain to; nil means OpenSSL's default paths (so `SSL_CERT_FILE` and
    /// `SSL_CERT_DIR` apply).
    public var caFile: String?
    /// Our certificate for mTLS upstreams; nil for none.
    public var clientCertificate: CertificatePair?
    /// Lowest protocol version.
    public var minimumVersion: TLSVersion = .tls12
    /// Highest protocol version: 1.3 unless an upstream mishandles it (and for tests of 1.2).
    public var maximumVersion: TLSVersion = .tls13
    /// ALPN protocols offered, in preference order; empty offers none.
    public var alpn: [String] = ["http/1.1"]

    /// Defaults: system CAs, no client certificate, TLS 1.2+, offers `http/1.1`.
    public init() {}
}

/// The client side of TLS for one upstream (one per endpoint and client identity): verification always on.
/// Immutable after `init`, shared by every worker. Session caching is the pool's: a connection hands out its
/// session (`TLSConnection.session`) and the pool passes it to the next connection to the same endpoint.
public final class TLSClientContext: @unchecked Sendable {
    /// The options the context was built with.
    public let options: TLSClientOptions
    let context: OpaquePointer

    /// Builds the context.
    /// - Throws: `TLSLoadError` (CA file), `TLSConfigurationError` (ALPN, settings).
    public init(options: TLSClientOptions = TLSClientOptions()) throws {
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw TLSConfigurationError("SSL_CTX_new: \(OpenSSLErrors.text(or: "out of memory"))")
        }
        do {
            try TLSServerContext.configureCommon(
                context, minimumVersion: options.minimumVersion, maximumVersion: options.maximumVersion)
            try Self.loadTrust(context, caFile: options.caFile)
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
            if !options.alpn.isEmpty {
                let wire = try ALPN.wireFormat(options.alpn)
                // SSL_CTX_set_alpn_protos returns 0 on success, unlike the rest of the API.
                guard SSL_CTX_set_alpn_protos(context, wire, UInt32(wire.count)) == 0 else {
                    throw TLSConfigurationError("alpn: \(OpenSSLErrors.text(or: "refused"))")
                }
            }
            if let pair = options.clientCertificate, let reason = pair.install(into: context) {
                throw TLSLoadError(file: pair.certFile, reason: .rejected(reason))
            }
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        self.options = options
        self.context = context
    }

    deinit { SSL_CTX_free(context) }

    private static func loadTrust(_ context: OpaquePointer, caFile: String?) throws {
        guard let caFile else {
            guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                throw TLSConfigurationError("system CA store: \(OpenSSLErrors.text(or: "unavailable"))")
            }
            return
        }
        // Read through PEMFile first for an error that names the file and says why.
        let certificates = try PEMFile.certificates(caFile)
        defer { certificates.forEach { X509_free($0) } }
        let store = SSL_CTX_get_cert_store(context)
        for certificate in certificates where X509_STORE_add_cert(store, certificate) != 1 {
            throw TLSLoadError(file: caFile, reason: .rejected(OpenSSLErrors.text(or: "CA certificate")))
        }
    }
}

/// A resumable client session (a TLS 1.3 ticket or TLS 1.2 session), to be offered on the next connection to the
/// same endpoint with the same client context. Immutable.
public final class TLSSession: @unchecked Sendable {
    let session: OpaquePointer

    /// Takes ownership of one reference.
    init(owning session: OpaquePointer) { self.session = session }
    deinit { SSL_SESSION_free(session) }

    /// The ticket the server issued for this session (empty for none): tells a renewed session from a reused one.
    var ticket: [UInt8] {
        var bytes: UnsafePointer<UInt8>?
        var length = 0
        SSL_SESSION_get0_ticket(session, &bytes, &length)
        guard let bytes else { return [] }
        return Array(UnsafeBufferPointer(start: bytes, count: length))
    }
}
