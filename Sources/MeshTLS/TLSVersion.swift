import CSSL

/// A TLS protocol version meshgate speaks (SPEC §9: 1.2 and 1.3 only; nothing older is ever negotiated).
public enum TLSVersion: String, Sendable, CaseIterable {
    /// TLS 1.2.
    case tls12 = "1.2"
    /// TLS 1.3.
    case tls13 = "1.3"

    /// The OpenSSL protocol constant.
    var openSSLVersion: Int32 {
        switch self {
        case .tls12: meshgate_tls1_2_version()
        case .tls13: meshgate_tls1_3_version()
        }
    }
}
