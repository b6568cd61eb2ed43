import CSSL
import Glibc

/// Reading PEM files into libcrypto objects, with errors that name the file and the reason.
enum PEMFile {
    /// The whole file, or `.unreadable` with the errno text. Read with Glibc so the error says why
    /// (permission, missing) rather than libcrypto's generic "no start line".
    static func read(_ path: String) throws(TLSLoadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TLSLoadError(file: path, reason: .unreadable(errnoText())) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw TLSLoadError(file: path, reason: .unreadable(errnoText())) }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }

    /// Every certificate in the file, leaf first (the server's chain, as `SSL_CTX_use_certificate_chain_file`
    /// expects). The caller owns the returned references (`X509_free`).
    static func certificates(_ path: String) throws(TLSLoadError) -> [OpaquePointer] {
        let bytes = try read(path)
        var certificates: [OpaquePointer] = []
        bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return }
            defer { BIO_free(bio) }
            while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) {
                certificates.append(certificate)
            }
        }
        // The loop ends on "no start line" at the end of the file: that is not an error.
        ERR_clear_error()
        guard !certificates.isEmpty else { throw TLSLoadError(file: path, reason: .noCertificate) }
        return certificates
    }

    /// The first private key in the file (any type libcrypto decodes). The caller owns it (`EVP_PKEY_free`).
    static func privateKey(_ path: String) throws(TLSLoadError) -> OpaquePointer {
        let bytes = try read(path)
        let key: OpaquePointer? = bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        ERR_clear_error()
        guard let key else { throw TLSLoadError(file: path, reason: .noPrivateKey) }
        return key
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// Reading X.509 fields MeshTLS needs: validity, names, identity.
enum X509Fields {
    /// An ASN1_TIME as seconds since the epoch.
    static func epochSeconds(_ time: UnsafePointer<ASN1_TIME>?) -> Int64 {
        var parts = tm()
        guard let time, ASN1_TIME_to_tm(time, &parts) == 1 else { return 0 }
        return Int64(timegm(&parts))
    }

    /// Throws `.expired` / `.notYetValid` unless `now` (seconds since the epoch) is inside the validity window.
    static func checkValidity(_ certificate: OpaquePointer, now: Int64, file: String) throws(TLSLoadError) {
        let notBefore = epochSeconds(X509_get0_notBefore(certificate))
        let notAfter = epochSeconds(X509_get0_notAfter(certificate))
        if now < notBefore { throw TLSLoadError(file: file, reason: .notYetValid(notBefore: notBefore)) }
        if now > notAfter { throw TLSLoadError(file: file, reason: .expired(notAfter: notAfter)) }
    }

    /// The subjectAltName entries of one type (`meshgate_gen_dns()`, `meshgate_gen_uri()`), in certificate order,
    /// as raw bytes (IA5 strings are not validated by libcrypto, so callers check what they forward).
    static func subjectAltNames(_ certificate: OpaquePointer, type wanted: Int32) -> [[UInt8]] {
        guard let raw = X509_get_ext_d2i(certificate, NID_subject_alt_name, nil, nil) else { return [] }
        let names = OpaquePointer(raw)
        defer { GENERAL_NAMES_free(names) }
        var result: [[UInt8]] = []
        var type: Int32 = 0
        var data: UnsafePointer<UInt8>?
        var length: Int32 = 0
        var index: Int32 = 0
        while meshgate_general_name(names, index, &type, &data, &length) == 1 {
            if type == wanted, let data, length >= 0 {
                result.append(Array(UnsafeBufferPointer(start: data, count: Int(length))))
            }
            index += 1
        }
        return result
    }

    /// The subject in RFC 4514 (RFC 2253) form: most specific RDN first, `,+"\<>;` and non-ASCII escaped, so the
    /// string is printable ASCII and safe inside a quoted header value.
    static func subjectRFC4514(_ certificate: OpaquePointer) -> String {
        guard let name = X509_get_subject_name(certificate), let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        guard X509_NAME_print_ex(bio, name, 0, meshgate_xn_flag_rfc2253()) >= 0 else { return "" }
        var bytes = [UInt8](repeating: 0, count: Int(BIO_ctrl_pending(bio)))
        let count = bytes.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32($0.count)) }
        return String(decoding: bytes.prefix(max(0, Int(count))), as: UTF8.self)
    }

    /// Lower-case hex SHA-256 of the DER certificate (`X509_digest` hashes the DER encoding).
    static func sha256Hex(_ certificate: OpaquePointer) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(certificate, EVP_sha256(), &digest, &length) == 1 else { return "" }
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(Int(length) * 2)
        for byte in digest.prefix(Int(length)) {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0xf)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
