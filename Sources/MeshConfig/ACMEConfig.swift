/// A TLS listener's `acme` object (SPEC §12): certificates for `domains` come from the ACME server at
/// `directory_url` instead of `certificates` files. Everything the gateway keeps lives in `storage_dir`.
public struct ACMEListenerConfig: Sendable, Equatable {
    public let directoryURL: String
    public let email: String?
    /// DNS names, lower-cased, in config order (the first is the certificate's CN).
    public let domains: [String]
    /// "http-01" or "tls-alpn-01".
    public let challenge: String
    /// CAs the ACME server's certificate must chain to; nil: the system store.
    public let caFile: String?
    public let storageDir: String

    public init(
        directoryURL: String, email: String?, domains: [String], challenge: String, caFile: String?, storageDir: String
    ) {
        self.directoryURL = directoryURL
        self.email = email
        self.domains = domains
        self.challenge = challenge
        self.caFile = caFile
        self.storageDir = storageDir
    }

    /// The issued chain (leaf first) and its key: what the listener serves once an order succeeded.
    public var certFile: String { storageDir + "/certificate.pem" }
    public var keyFile: String { storageDir + "/certificate.key" }
    /// The account key, kept so restarts reuse the account.
    public var accountKeyFile: String { storageDir + "/account.key" }
    /// A self-signed pair for `domains`, served until the first certificate is issued.
    public var placeholderCertFile: String { storageDir + "/placeholder.pem" }
    public var placeholderKeyFile: String { storageDir + "/placeholder.key" }
}
