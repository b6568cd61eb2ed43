import MeshConfig
import MeshProxy
import MeshTLS

/// An upstream's TLS as its pools use it: the client context all workers share and the name each endpoint's
/// certificate must carry.
public struct UpstreamTLS {
    public let context: TLSClientContext
    /// `tls.server_name`, else the endpoint's host (an IP literal: an IP SAN must match and no SNI is sent).
    public let serverName: String
}

/// Client contexts for upstreams with `tls` (SPEC §9), built on start and on every reload, so a rotated CA or
/// client certificate is used by the next connections; connections already open keep theirs.
public enum UpstreamTLSContexts {
    /// `config.upstreamNames` order; nil for a cleartext upstream. Throws every error, each naming its JSON path.
    public static func build(_ config: GatewayConfig, nowSeconds: Int64) throws(ListenerTLSStore.Failure)
        -> [TLSClientContext?]
    {
        var contexts: [TLSClientContext?] = []
        var errors: [String] = []
        for name in config.upstreamOrder {
            guard let tls = config.upstreams[name]?.tls else {
                contexts.append(nil)
                continue
            }
            let path = JSONPath.join(JSONPath.join("upstreams", name), "tls")
            // SPEC §10 `"protocol": "h2"`: the connection must agree on h2 by ALPN (RFC 9113 §3.2).
            let alpn = config.upstreams[name]?.upstreamProtocol == .h2 ? ["h2"] : ["http/1.1"]
            do {
                contexts.append(try context(tls, path: path, nowSeconds: nowSeconds, alpn: alpn))
            } catch {
                errors.append(error.description)
                contexts.append(nil)
            }
        }
        guard errors.isEmpty else { throw ListenerTLSStore.Failure(errors: errors) }
        return contexts
    }

    /// Why an upstream's TLS cannot be set up, naming the JSON path.
    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The client context of one upstream's `tls`: its CA (or the system store) and client pair.
    public static func context(
        _ tls: UpstreamTLSConfig, path: String, nowSeconds: Int64, alpn: [String] = ["http/1.1"]
    ) throws(LoadError) -> TLSClientContext {
        var options = TLSClientOptions()
        options.caFile = tls.caFile
        options.alpn = alpn
        if let cert = tls.certFile, let key = tls.keyFile {
            do {
                options.clientCertificate = try CertificatePair(certFile: cert, keyFile: key, now: nowSeconds)
            } catch {
                throw LoadError(description: "\(path).cert_file: \(error)")
            }
        }
        do {
            return try TLSClientContext(options: options)
        } catch {
            throw LoadError(description: "\(path)\(tls.caFile == nil ? "" : ".ca_file"): \(error)")
        }
    }

    /// The pool settings of endpoint `host` of an upstream using `context`.
    public static func settings(_ context: TLSClientContext?, _ config: UpstreamTLSConfig?, host: String) -> UpstreamTLS? {
        guard let context, let config else { return nil }
        return UpstreamTLS(context: context, serverName: config.serverName ?? host)
    }
}
