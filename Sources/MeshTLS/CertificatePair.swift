import CSSL

/// A certificate chain and its private key, read and checked: the key matches the leaf and the leaf is valid at
/// load time. Immutable after `init`; shared read-only by every context and worker that uses it.
public final class CertificatePair: @unchecked Sendable {
    /// The certificate file as configured (the `certificate` label of the expiry metric).
    public let certFile: String
    /// The key file as configured.
    public let keyFile: String
    /// The leaf's dNSName SANs, lower-cased, in certificate order (SNI selection matches against these only;
    /// the subject CN is ignored, as RFC 6125 §6.4.4 allows and browsers do).
    public let dnsNames: [String]
    /// The leaf's notAfter, seconds since the epoch (`meshgate_tls_certificate_expiry_timestamp_seconds`).
    public let notAfter: Int64
    /// The leaf's subject in RFC 4514 form (for logs and `/config`).
    public let subject: String
    /// The leaf certificate (owned).
    let leaf: OpaquePointer
    /// Intermediates after the leaf, in file order (owned).
    let chain: [OpaquePointer]
    /// The private key (owned).
    let key: OpaquePointer

    /// Loads `certFile` (leaf first, then intermediates) and `keyFile`, checked at `now` (seconds since the epoch,
    /// wall clock: certificate validity is calendar time).
    /// - Throws: `TLSLoadError` naming the file: unreadable, no certificate/key, key does not match, expired,
    ///   not yet valid.
    public init(certFile: String, keyFile: String, now: Int64) throws(TLSLoadError) {
        let certificates = try PEMFile.certificates(certFile)
        let leaf = certificates[0]
        let key: OpaquePointer
        do throws(TLSLoadError) {
            key = try PEMFile.privateKey(keyFile)
        } catch {
            certificates.forEach { X509_free($0) }
            throw error
        }
        do throws(TLSLoadError) {
            guard X509_check_private_key(leaf, key) == 1 else {
                ERR_clear_error()
                throw TLSLoadError(file: keyFile, reason: .keyDoesNotMatchCertificate)
            }
            try X509Fields.checkValidity(leaf, now: now, file: certFile)
        } catch {
            certificates.forEach { X509_free($0) }
            EVP_PKEY_free(key)
            throw error
        }
        self.certFile = certFile
        self.keyFile = keyFile
        self.leaf = leaf
        self.chain = Array(certificates.dropFirst())
        self.key = key
        self.notAfter = X509Fields.epochSeconds(X509_get0_notAfter(leaf))
        self.subject = X509Fields.subjectRFC4514(leaf)
        self.dnsNames = X509Fields.subjectAltNames(leaf, type: meshgate_gen_dns()).map {
            String(decoding: $0, as: UTF8.self).lowercased()
        }
    }

    deinit {
        X509_free(leaf)
        chain.forEach { X509_free($0) }
        EVP_PKEY_free(key)
    }

    /// Installs the pair into `context` (leaf, chain, key); false with libssl's reason when it refuses.
    func install(into context: OpaquePointer) -> String? {
        guard SSL_CTX_use_certificate(context, leaf) == 1 else { return OpenSSLErrors.text(or: "certificate") }
        for certificate in chain where meshgate_ssl_ctx_add1_chain_cert(context, certificate) != 1 {
            return OpenSSLErrors.text(or: "chain certificate")
        }
        guard SSL_CTX_use_PrivateKey(context, key) == 1, SSL_CTX_check_private_key(context) == 1 else {
            return OpenSSLErrors.text(or: "private key")
        }
        return nil
    }
}
