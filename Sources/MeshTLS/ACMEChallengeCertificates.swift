import CSSL
import MeshSync

/// The tls-alpn-01 certificates (RFC 8737) a listener answers with while an ACME order validates: one per
/// domain, served only to a ClientHello that offers ALPN `acme-tls/1` with that SNI. Written by the ACME thread,
/// read by the workers' handshakes; one instance per listener lives across reloads.
public final class ACMEChallengeCertificates: @unchecked Sendable {
    /// One self-signed certificate and its key (owned).
    final class Entry: @unchecked Sendable {
        let certificate: OpaquePointer
        let key: OpaquePointer

        init(certificate: OpaquePointer, key: OpaquePointer) {
            self.certificate = certificate
            self.key = key
        }

        deinit {
            X509_free(certificate)
            EVP_PKEY_free(key)
        }
    }

    private let entries = Locked<[String: Entry]>([:])

    public init() {}

    /// Serves `certificatePEM`/`keyPEM` for `domain` (replacing any earlier one).
    /// - Throws: `TLSConfigurationError` when the PEMs do not parse or do not match.
    public func install(domain: String, certificatePEM: [UInt8], keyPEM: [UInt8]) throws {
        let certificate: OpaquePointer? = certificatePEM.withUnsafeBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_X509(bio, nil, nil, nil)
        }
        guard let certificate else { throw TLSConfigurationError("challenge certificate: \(OpenSSLErrors.text(or: "no PEM"))") }
        let key: OpaquePointer? = keyPEM.withUnsafeBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil)
        }
        guard let key, X509_check_private_key(certificate, key) == 1 else {
            X509_free(certificate)
            if let key { EVP_PKEY_free(key) }
            throw TLSConfigurationError("challenge key: \(OpenSSLErrors.text(or: "does not match"))")
        }
        let entry = Entry(certificate: certificate, key: key)
        entries.withLock { $0[domain.lowercased()] = entry }
    }

    /// Stops serving `domain`'s challenge certificate.
    public func remove(domain: String) { _ = entries.withLock { $0.removeValue(forKey: domain.lowercased()) } }

    /// Domains with a challenge certificate now (tests and logs).
    public var domains: [String] { entries.withLock { $0.keys.sorted() } }

    func entry(for serverName: String) -> Entry? { entries.withLock { $0[serverName.lowercased()] } }

    /// RFC 8737 §6.2: the protocol name.
    static let protocolName: [UInt8] = Array("acme-tls/1".utf8)

    /// Whether the client's ALPN list (wire format) contains `acme-tls/1`.
    static func offered(_ list: UnsafePointer<UInt8>?, _ length: UInt32) -> Bool {
        guard let list else { return false }
        var index = 0
        let count = Int(length)
        while index < count {
            let size = Int(list[index])
            index += 1
            guard index + size <= count else { return false }
            if size == protocolName.count
                && (0..<size).allSatisfy({ list[index + $0] == protocolName[$0] })
            {
                return true
            }
            index += size
        }
        return false
    }
}
