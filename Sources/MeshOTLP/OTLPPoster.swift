import MeshBlockingHTTP
import MeshControl
import MeshPosix
import MeshTLS

/// Why one export request failed (logged, and counted in `meshgate_otlp_export_failures_total`).
public enum OTLPExportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The collector's host name did not resolve.
    case resolve(String)
    /// A socket call failed (connection refused, reset…).
    case system(SystemError)
    /// The whole request did not complete within the timeout.
    case timeout(ms: Int)
    /// The collector answered something that is not an HTTP/1.x response.
    case badResponse
    /// The collector answered with a non-2xx status.
    case status(Int)
    /// An `https://` collector: TLS failed (its certificate did not verify, a protocol error, the CA file could
    /// not be loaded…), with the reason.
    case tls(String)

    /// For the rate-limited warning line.
    public var description: String {
        switch self {
        case .resolve(let reason): "resolve failed: \(reason)"
        case .system(let error): error.description
        case .timeout(let ms): "no complete response within \(ms) ms"
        case .badResponse: "malformed HTTP response"
        case .status(let code): "collector answered \(code)"
        case .tls(let reason): "TLS: \(reason)"
        }
    }

    /// The exporter's meaning of a client failure (an oversize answer is not one a collector sends).
    init(_ error: BlockingHTTPError) {
        switch error {
        case .resolve(let reason): self = .resolve(reason)
        case .system(let error): self = .system(error)
        case .timeout(let ms): self = .timeout(ms: ms)
        case .tls(let reason): self = .tls(reason)
        case .badResponse, .tooLarge: self = .badResponse
        }
    }
}

/// One `POST` of a span batch with one deadline, on the exporter's own thread (never a worker), through the
/// shared blocking client (`BlockingHTTPClient`: a collector that accepts and never answers costs at most
/// `timeoutMs`, the TLS handshake included).
public enum OTLPPoster {
    /// Longest response body read (OTLP answers are tiny; a partial-success body is ignored).
    public static let maxResponseBytes = 64 * 1024

    /// Sends `body` as `application/json` to `target`; returns the 2xx status or why it failed. An `https://`
    /// target needs `tls` (the exporter's context: `tracing.ca_file` or the system store).
    public static func post(
        _ target: HTTPTarget, body: [UInt8], timeoutMs: Int, tls: TLSClientContext? = nil
    ) -> Result<Int, OTLPExportError> {
        if target.secure, tls == nil { return .failure(.tls("no TLS context for \(target.hostHeader)")) }
        let request = BlockingHTTPRequest(
            method: "POST", host: target.host, port: target.port, target: target.path,
            headers: [("Content-Type", "application/json"), ("User-Agent", "meshgate")], body: body)
        do {
            let response = try BlockingHTTPClient.send(
                request, timeoutMs: timeoutMs, tls: target.secure ? tls : nil, maxBodyBytes: maxResponseBytes)
            guard (200...299).contains(response.status) else { return .failure(.status(response.status)) }
            return .success(response.status)
        } catch {
            return .failure(OTLPExportError(error))
        }
    }
}
