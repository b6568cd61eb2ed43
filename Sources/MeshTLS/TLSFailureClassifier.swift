import CSSL

/// Turns libssl's error state after a failed call into a `TLSFailure` a log line can explain.
enum TLSFailureClassifier {
    static func classify(_ ssl: OpaquePointer, code: Int32) -> TLSFailure {
        let (reason, text) = OpenSSLErrors.drain()
        // A certificate that did not verify explains the failure better than the generic error it caused.
        let verify = SSL_get_verify_result(ssl)
        if verify != X509_V_OK {
            return .peerCertificateRejected(String(cString: X509_verify_cert_error_string(verify)))
        }
        if reason == 0 || reason == SSL_R_UNEXPECTED_EOF_WHILE_READING { return .closedByPeer }
        switch reason {
        case SSL_R_HTTP_REQUEST, SSL_R_HTTPS_PROXY_REQUEST: return .plaintextHTTP
        case SSL_R_WRONG_VERSION_NUMBER, SSL_R_PACKET_LENGTH_TOO_LONG, SSL_R_UNKNOWN_PROTOCOL:
            return .notTLS(text)
        case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE: return .peerCertificateMissing
        case SSL_R_NO_APPLICATION_PROTOCOL, Int32(SSL_AD_REASON_OFFSET) + meshgate_ad_no_application_protocol():
            return .noApplicationProtocol
        default: break
        }
        if reason > Int32(SSL_AD_REASON_OFFSET) { return .alertReceived(alertDescription(text)) }
        return .protocolError(text)
    }

    /// "sslv3 alert bad certificate" → "bad certificate" (libssl prefixes the alert's protocol era).
    private static func alertDescription(_ text: String) -> String {
        guard let range = text.firstRange(of: "alert ") else { return text }
        return String(text[range.upperBound...])
    }
}
