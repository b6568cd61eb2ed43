import CSSL

/// The verified peer certificate of a finished handshake, in the three parts SPEC §9 forwards.
public struct PeerIdentity: Sendable, Equatable {
    /// Lower-case hex SHA-256 of the DER certificate.
    public let sha256Hex: String
    /// The first URI SAN (e.g. a SPIFFE ID), nil when there is none or when it holds a byte that could change
    /// the header's meaning (outside printable ASCII, or one of `" ; , \`): a later URI SAN is not used instead,
    /// so `allow_identities` can only ever see the certificate's first URI.
    public let uri: String?
    /// The subject in RFC 4514 form (printable ASCII: libcrypto escapes specials and non-ASCII).
    public let subject: String

    /// `Hash=<hex>;URI=<uri>;Subject="<dn>"`, the `x-forwarded-client-cert` value (URI part left out when nil).
    public var forwardedClientCert: String {
        var value = "Hash=" + sha256Hex
        if let uri { value += ";URI=" + uri }
        value += ";Subject=\"" + subject + "\""
        return value
    }

    /// Reads the identity of `certificate` (not retained).
    init(certificate: OpaquePointer) {
        sha256Hex = X509Fields.sha256Hex(certificate)
        subject = X509Fields.subjectRFC4514(certificate)
        uri = X509Fields.subjectAltNames(certificate, type: meshgate_gen_uri()).first.flatMap(Self.headerSafe)
    }

    /// The URI as a string when every byte is printable ASCII and none can end or split the header field.
    static func headerSafe(_ bytes: [UInt8]) -> String? {
        guard !bytes.isEmpty else { return nil }
        for byte in bytes {
            guard (0x21...0x7e).contains(byte) else { return nil }
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: ";") || byte == UInt8(ascii: ",")
                || byte == UInt8(ascii: "\\")
            {
                return nil
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
