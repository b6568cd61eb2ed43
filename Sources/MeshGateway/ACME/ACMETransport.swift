import MeshACME
import MeshBlockingHTTP
import MeshTLS

/// One HTTPS exchange for the ACME client, on its own control-plane thread (never a worker), through the shared
/// blocking client: TLS verified against the listener's `ca_file` (or the system store), one deadline for the
/// whole exchange. Every failure is an `ACMEProblem` of type `meshgate:connection`.
enum ACMETransport {
    /// The whole exchange, connect to last byte (one bound, where socket timeouts bounded each call).
    static let timeoutMs = 30_000
    /// Largest response body: a certificate chain or a directory is a few KiB.
    static let maxBodyBytes = 4 << 20

    static func exchange(_ request: ACMERequest, tls: TLSClientContext) throws(ACMEProblem) -> ACMEResponse {
        guard let target = ACMEWire.parse(url: request.url) else {
            throw problem(request.url, "not an https:// URL")
        }
        let outgoing = BlockingHTTPRequest(
            method: request.method, host: target.host, port: target.port, target: target.path,
            headers: ACMEWire.headers(request), body: request.body)
        do {
            return try BlockingHTTPClient.send(outgoing, timeoutMs: timeoutMs, tls: tls, maxBodyBytes: maxBodyBytes)
        } catch {
            throw problem(request.url, error.description)
        }
    }

    static func problem(_ url: String, _ detail: String) -> ACMEProblem {
        ACMEProblem(type: "meshgate:connection", detail: "\(url): \(detail)")
    }
}
