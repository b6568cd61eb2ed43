import CSSL
import Glibc
import MeshCrypto

/// A failure building or reading a certificate structure, with libcrypto's reason.
public struct ACMECertificateError: Error, Sendable, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The X.509 structures an ACME client makes and reads, built by libcrypto: the CSR that finalizes an order,
/// the tls-alpn-01 certificate (RFC 8737), and the validity of an issued chain.
public enum ACMECertificates {
    /// RFC 8737 §3: id-pe-acmeIdentifier.
    public static let acmeIdentifierOID = "1.3.6.1.5.5.7.1.31"

    /// The DER CSR for `domains` (subjectAltName dNSNames; the first also as CN when it fits the 64-byte limit),
    /// signed by `key` with SHA-256.
    public static func csrDER(key: PrivateKey, domains: [String]) throws(ACMECertificateError) -> [UInt8] {
        try checkNames(domains)
        let pkey = try libcryptoKey(key)
        defer { EVP_PKEY_free(pkey) }
        guard let request = X509_REQ_new() else { throw failure("X509_REQ_new") }
        defer { X509_REQ_free(request) }
        guard X509_REQ_set_version(request, 0) == 1, X509_REQ_set_pubkey(request, pkey) == 1 else {
            throw failure("CSR key")
        }
        if domains[0].utf8.count <= 64 {
            let name = X509_REQ_get_subject_name(request)
            guard X509_NAME_add_entry_by_txt(name, "CN", meshgate_mbstring_asc(), domains[0], -1, -1, 0) == 1 else {
                throw failure("CSR subject")
            }
        }
        guard let extensions = meshgate_extensions_new() else { throw failure("extension stack") }
        defer { meshgate_extensions_free(extensions) }
        let san = try subjectAltName(domains)
        guard meshgate_extensions_push(extensions, san) > 0 else {
            X509_EXTENSION_free(san)
            throw failure("extension stack")
        }
        guard X509_REQ_add_extensions(request, extensions) == 1 else { throw failure("CSR extensions") }
        guard X509_REQ_sign(request, pkey, EVP_sha256()) > 0 else { throw failure("CSR signature") }
        return try der { i2d_X509_REQ(request, $0) }
    }

    /// The self-signed tls-alpn-01 certificate for `domain` (RFC 8737 §3): the domain as its only SAN and the
    /// critical acmeIdentifier extension holding the SHA-256 of the key authorization. Valid from `now` for 7
    /// days. Returns the certificate as PEM.
    public static func alpnChallengeCertificate(
        domain: String, keyAuthorization: String, key: PrivateKey, now: Int64
    ) throws(ACMECertificateError) -> String {
        let digest = Digest.sha256(Array(keyAuthorization.utf8))
        return try selfSigned(domains: [domain], key: key, now: now, days: 7, acmeIdentifier: digest)
    }

    /// A self-signed certificate for `domains` (the placeholder a listener serves before its first issued one).
    public static func selfSigned(
        domains: [String], key: PrivateKey, now: Int64, days: Int, acmeIdentifier: [UInt8]? = nil
    ) throws(ACMECertificateError) -> String {
        try checkNames(domains)
        let pkey = try libcryptoKey(key)
        defer { EVP_PKEY_free(pkey) }
        guard let certificate = X509_new() else { throw failure("X509_new") }
        defer { X509_free(certificate) }
        var serial = SecureRandom.bytes(16)
        serial[0] &= 0x7f  // a positive INTEGER (RFC 5280 §4.1.2.2)
        guard X509_set_version(certificate, 2) == 1,
            let number = BN_bin2bn(serial, Int32(serial.count), nil)
        else { throw failure("certificate version") }
        defer { BN_free(number) }
        var start = time_t(now)
        guard BN_to_ASN1_INTEGER(number, X509_get_serialNumber(certificate)) != nil,
            X509_time_adj_ex(X509_getm_notBefore(certificate), 0, 0, &start) != nil,
            X509_time_adj_ex(X509_getm_notAfter(certificate), Int32(days), 0, &start) != nil,
            X509_set_pubkey(certificate, pkey) == 1
        else { throw failure("certificate fields") }
        let name = X509_get_subject_name(certificate)
        let common = domains[0].utf8.count <= 64 ? domains[0] : "meshgate"
        guard X509_NAME_add_entry_by_txt(name, "CN", meshgate_mbstring_asc(), common, -1, -1, 0) == 1,
            X509_set_issuer_name(certificate, name) == 1
        else { throw failure("certificate name") }
        let san = try subjectAltName(domains)
        defer { X509_EXTENSION_free(san) }
        guard X509_add_ext(certificate, san, -1) == 1 else { throw failure("subjectAltName") }
        if let acmeIdentifier {
            let identifier = try acmeIdentifierExtension(acmeIdentifier)
            defer { X509_EXTENSION_free(identifier) }
            guard X509_add_ext(certificate, identifier, -1) == 1 else { throw failure("acmeIdentifier") }
        }
        guard X509_sign(certificate, pkey, EVP_sha256()) > 0 else { throw failure("certificate signature") }
        return try pem { PEM_write_bio_X509($0, certificate) }
    }

    /// notBefore and notAfter (seconds since the epoch) of the first certificate in a PEM chain.
    public static func validity(ofPEM pem: [UInt8]) throws(ACMECertificateError) -> (notBefore: Int64, notAfter: Int64)
    {
        let certificate: OpaquePointer? = pem.withUnsafeBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_X509(bio, nil, nil, nil)
        }
        guard let certificate else { throw failure("no certificate in the PEM") }
        defer { X509_free(certificate) }
        guard let notBefore = epochSeconds(X509_get0_notBefore(certificate)),
            let notAfter = epochSeconds(X509_get0_notAfter(certificate))
        else { throw failure("certificate validity") }
        return (notBefore, notAfter)
    }

    /// When to renew: two thirds into the certificate's life (SPEC §12).
    public static func renewalTime(notBefore: Int64, notAfter: Int64) -> Int64 {
        notBefore + (notAfter - notBefore) * 2 / 3
    }

    // MARK: - Pieces

    /// Names go into an OpenSSL configuration string ("DNS:a,DNS:b"): only host-name characters may pass, so a
    /// name can never add a SAN of another type.
    static func checkNames(_ domains: [String]) throws(ACMECertificateError) {
        guard !domains.isEmpty else { throw ACMECertificateError("no domain names") }
        for domain in domains {
            let ok =
                !domain.isEmpty && domain.utf8.count <= 253
                && domain.utf8.allSatisfy { byte in
                    switch byte {
                    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "*"):
                        true
                    default: false
                    }
                }
            guard ok else { throw ACMECertificateError("\"\(domain)\" is not a DNS name") }
        }
    }

    private static func subjectAltName(_ domains: [String]) throws(ACMECertificateError) -> OpaquePointer {
        let value = domains.map { "DNS:" + $0 }.joined(separator: ",")
        guard let ext = X509V3_EXT_conf_nid(nil, nil, NID_subject_alt_name, value) else {
            throw failure("subjectAltName")
        }
        return ext
    }

    /// extnValue = DER(OCTET STRING(digest)), the extension critical (RFC 8737 §3).
    private static func acmeIdentifierExtension(_ digest: [UInt8]) throws(ACMECertificateError) -> OpaquePointer {
        guard let inner = ASN1_OCTET_STRING_new() else { throw failure("ASN1_OCTET_STRING_new") }
        defer { ASN1_OCTET_STRING_free(inner) }
        guard ASN1_OCTET_STRING_set(inner, digest, Int32(digest.count)) == 1 else { throw failure("octet string") }
        let encoded = try der { i2d_ASN1_OCTET_STRING(inner, $0) }
        guard let outer = ASN1_OCTET_STRING_new() else { throw failure("ASN1_OCTET_STRING_new") }
        defer { ASN1_OCTET_STRING_free(outer) }
        guard ASN1_OCTET_STRING_set(outer, encoded, Int32(encoded.count)) == 1,
            let object = OBJ_txt2obj(acmeIdentifierOID, 1)
        else { throw failure("acmeIdentifier") }
        defer { ASN1_OBJECT_free(object) }
        guard let ext = X509_EXTENSION_create_by_OBJ(nil, object, 1, outer) else { throw failure("acmeIdentifier") }
        return ext
    }

    /// The key as libcrypto's EVP_PKEY (through its PKCS#8 PEM; MeshCrypto keeps its handle to itself). Caller
    /// frees.
    static func libcryptoKey(_ key: PrivateKey) throws(ACMECertificateError) -> OpaquePointer {
        let pem = Array(key.pemPKCS8().utf8)
        let loaded: OpaquePointer? = pem.withUnsafeBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let loaded else { throw failure("private key") }
        return loaded
    }

    private static func der(
        _ encode: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?) -> Int32
    ) throws(ACMECertificateError) -> [UInt8] {
        let length = encode(nil)
        guard length > 0 else { throw failure("DER encoding") }
        var bytes = [UInt8](repeating: 0, count: Int(length))
        let written = bytes.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return encode(&cursor)
        }
        guard written == length else { throw failure("DER encoding") }
        return bytes
    }

    private static func pem(_ write: (OpaquePointer) -> Int32) throws(ACMECertificateError) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw failure("BIO_new") }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw failure("PEM encoding") }
        let pending = Int(BIO_ctrl_pending(bio))
        var out = [UInt8](repeating: 0, count: pending)
        let read = out.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32(pending)) }
        return String(decoding: out.prefix(Int(max(read, 0))), as: UTF8.self)
    }

    private static func epochSeconds(_ time: UnsafePointer<ASN1_TIME>?) -> Int64? {
        guard let time else { return nil }
        var parts = tm()
        guard ASN1_TIME_to_tm(time, &parts) == 1 else { return nil }
        return Int64(timegm(&parts))
    }

    private static func failure(_ what: String) -> ACMECertificateError {
        var reason = ""
        let code = ERR_get_error()
        if code != 0 {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            reason = ": " + String(cString: buffer)
        }
        ERR_clear_error()
        return ACMECertificateError(what + reason)
    }
}
