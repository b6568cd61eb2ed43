import MeshConfig

/// Why a control-plane HTTP request (JWKS fetch, health probe) produced no usable response.
///
/// Every case carries enough text for an operator reading a log line: which address, what the kernel said,
/// what the peer sent. The control plane never retries inside the client; callers decide (back-off, thresholds).
public enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL is not `http://host[:port][/path]`.
    case invalidURL(String)
    /// The URL's scheme is not `http` (`https` included: meshgate has no TLS client).
    case unsupportedScheme(String)
    /// The host name did not resolve to any address.
    case resolveFailed(host: String, reason: String)
    /// The TCP connection could not be made (refused, unreachable, …).
    case connectFailed(address: String, reason: String)
    /// No complete response within the request's `timeoutMs` (resolving and connecting included).
    case timeout(address: String, afterMs: Int)
    /// The peer answered with something that is not a well-framed HTTP/1.x response.
    case badResponse(address: String, reason: String)
    /// The body is larger than the request's `maxBodyBytes`.
    case bodyTooLarge(address: String, limit: Int)
    /// The connection failed after it was established (reset, write error).
    case connectionLost(address: String, reason: String)
    /// The client was shut down before the request finished.
    case cancelled

    /// A one-line explanation for logs and the `onRefresh` callback; URLs are shown without credentials.
    public var description: String {
        switch self {
        case .invalidURL(let url):
            return "invalid URL \(URLRedaction.redact(url)): expected http://host[:port][/path]"
        case .unsupportedScheme(let url):
            return URLRedaction.redact(url) + ": only http:// and https:// are supported"
        case .resolveFailed(let host, let reason):
            return "cannot resolve \(host): \(reason)"
        case .connectFailed(let address, let reason):
            return "cannot connect to \(address): \(reason)"
        case .timeout(let address, let afterMs):
            return "no complete response from \(address) within \(afterMs) ms"
        case .badResponse(let address, let reason):
            return "bad HTTP response from \(address): \(reason)"
        case .bodyTooLarge(let address, let limit):
            return "response body from \(address) is larger than \(limit) bytes"
        case .connectionLost(let address, let reason):
            return "connection to \(address) lost: \(reason)"
        case .cancelled:
            return "request cancelled: the control plane is stopping"
        }
    }
}
