import CSSL

/// Why a certificate, key or CA file could not be used. Each error names the file, so `meshgate check`, reload
/// logs and `/config` can show `"<file>: <reason>"` (SPEC §9).
public struct TLSLoadError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong with the file.
    public enum Reason: Equatable, Sendable, CustomStringConvertible {
        /// The file could not be opened or read (the `strerror` text).
        case unreadable(String)
        /// The file holds no PEM certificate.
        case noCertificate
        /// The file holds no PEM private key, or one libcrypto cannot decode.
        case noPrivateKey
        /// The private key is not the one of the certificate's public key.
        case keyDoesNotMatchCertificate
        /// The certificate's notAfter is in the past (`notAfter` in seconds since the epoch).
        case expired(notAfter: Int64)
        /// The certificate's notBefore is in the future (seconds since the epoch).
        case notYetValid(notBefore: Int64)
        /// libssl refused the file for another reason (its error text).
        case rejected(String)

        public var description: String {
            switch self {
            case .unreadable(let text): "unreadable (\(text))"
            case .noCertificate: "no PEM certificate"
            case .noPrivateKey: "no PEM private key"
            case .keyDoesNotMatchCertificate: "key does not match certificate"
            case .expired(let notAfter): "expired (notAfter \(notAfter))"
            case .notYetValid(let notBefore): "not yet valid (notBefore \(notBefore))"
            case .rejected(let text): "rejected by libssl (\(text))"
            }
        }
    }

    /// The path as configured.
    public let file: String
    /// What went wrong.
    public let reason: Reason

    /// Creates an error for `file`.
    public init(file: String, reason: Reason) {
        self.file = file
        self.reason = reason
    }

    /// `"<file>: <reason>"`, the form SPEC §9 shows in `/config`.
    public var description: String { "\(file): \(reason)" }
}

/// A configuration that cannot be built into a context, independent of any file (empty certificate list, an
/// ALPN name longer than 255 bytes).
public struct TLSConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong, in words.
    public let message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Why a TLS connection failed. The connection is unusable afterwards; whatever alert libssl queued is still
/// in `takeCiphertext` for a best-effort flush before closing.
public enum TLSFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// The handshake did not finish before its deadline.
    case handshakeTimeout
    /// The peer closed the transport (EOF) before the handshake finished or without close_notify.
    case closedByPeer
    /// The first bytes were a plaintext HTTP request, not a ClientHello.
    case plaintextHTTP
    /// The bytes are not TLS (garbage instead of a record header, or a version we do not speak).
    case notTLS(String)
    /// We rejected the peer's certificate (X.509 verification: unknown CA, expired, name mismatch, ...).
    case peerCertificateRejected(String)
    /// The peer sent no certificate although one is required (mTLS with `require_client_cert`).
    case peerCertificateMissing
    /// No protocol in common with the peer's ALPN offer (RFC 7301 no_application_protocol).
    case noApplicationProtocol
    /// The peer sent a fatal alert (its description, e.g. "unknown ca", "bad certificate").
    case alertReceived(String)
    /// Any other protocol error, with libssl's reason text.
    case protocolError(String)

    public var description: String {
        switch self {
        case .handshakeTimeout: "handshake timeout"
        case .closedByPeer: "closed by peer"
        case .plaintextHTTP: "plaintext HTTP on a TLS port"
        case .notTLS(let text): "not TLS (\(text))"
        case .peerCertificateRejected(let text): "peer certificate rejected (\(text))"
        case .peerCertificateMissing: "peer sent no certificate"
        case .noApplicationProtocol: "no application protocol in common"
        case .alertReceived(let text): "alert received (\(text))"
        case .protocolError(let text): "protocol error (\(text))"
        }
    }
}

/// The thread's OpenSSL error queue, read and cleared. Every failure path drains it so a stale entry never
/// explains the next connection's failure on the same thread.
enum OpenSSLErrors {
    /// The first queued error's reason code and text, and empties the queue; (0, "") when it is empty.
    static func drain() -> (reason: Int32, text: String) {
        let first = ERR_get_error()
        ERR_clear_error()
        guard first != 0 else { return (0, "") }
        let text = ERR_reason_error_string(first).map { String(cString: $0) } ?? "error \(first)"
        return (ERR_GET_REASON(first), text)
    }

    /// The queue's first error text, or `fallback` when the queue is empty.
    static func text(or fallback: String) -> String {
        let text = drain().text
        return text.isEmpty ? fallback : text
    }
}
