import MeshPosix

/// Why one blocking exchange failed. Callers map it onto their own error type (ACME's `meshgate:connection`
/// problem, `OTLPExportError`), so the cases are the distinctions those callers already make.
public enum BlockingHTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The host name did not resolve.
    case resolve(String)
    /// A socket call failed (connection refused, reset…).
    case system(SystemError)
    /// The whole exchange did not complete within the deadline (`timeoutMs` is the bound it came from).
    case timeout(ms: Int)
    /// TLS failed: the certificate did not verify, a protocol error, the peer closed during the handshake.
    case tls(String)
    /// The peer answered something that is not a well-framed HTTP/1.x response.
    case badResponse(String)
    /// The response body is longer than the caller allowed.
    case tooLarge(limit: Int)

    public var description: String {
        switch self {
        case .resolve(let reason): "resolve failed: \(reason)"
        case .system(let error): error.description
        case .timeout(let ms): "no complete response within \(ms) ms"
        case .tls(let reason): "TLS: \(reason)"
        case .badResponse(let reason): "malformed HTTP response: \(reason)"
        case .tooLarge(let limit): "response body over \(limit) bytes"
        }
    }
}
