import MeshConfig
import MeshHTTP1
import MeshProxy
import Testing

/// A config from JSON text (the real loader), compiled.
func compiled(_ json: String) throws -> CompiledConfig {
    switch ConfigLoader.parse(Array(json.utf8)) {
    case .success(let config): return CompiledConfig(config, generation: 1)
    case .failure(let errors): throw errors
    }
}

/// One listener on 127.0.0.1:1 with `routes` (JSON objects) to upstream "app".
func routesConfig(_ routes: [String], listenerExtra: String = "") throws -> CompiledConfig {
    try compiled(
        """
        {"version": 1, "admin": null,
         "listeners": [{"name": "edge", "address": "127.0.0.1:1"\(listenerExtra), "routes": [\(routes.joined(separator: ","))]}],
         "upstreams": {"app": {"endpoints": ["127.0.0.1:2"]}, "other": {"endpoints": ["127.0.0.1:3"]}},
         "jwt_providers": {"idp": {"issuer": "i", "jwks": {"inline": {"keys": []}}}}}
        """)
}

/// Parses `text` as a request head and hands the view (valid only inside `body`) to `body`.
func withRequest<R>(_ text: String, _ body: (RequestView) throws -> R) throws -> R {
    let bytes = Array(text.utf8)
    let headers = UnsafeMutableBufferPointer<HTTPHeaderField>.allocate(capacity: 100)
    defer { headers.deallocate() }
    return try bytes.withUnsafeBytes { buffer in
        var parser = RequestParser()
        guard case .complete(let head) = parser.parse(buffer, headers: headers) else {
            throw ProxyTestError.unparsed(text)
        }
        return try body(RequestView(buffer: buffer, headers: headers, head: head))
    }
}

enum ProxyTestError: Error {
    case unparsed(String)
    case invalidPath
}

/// The normalized path of a request, as the gateway routes on it.
func normalized(_ view: RequestView) throws -> [UInt8] {
    var out = [UInt8](repeating: 0, count: max(1, view.rawPath.count))
    let result = out.withUnsafeMutableBytes { PathNormalizer.normalize(view.rawPath, into: $0) }
    guard case .normalized(let length) = result else { throw ProxyTestError.invalidPath }
    return Array(out[0..<length])
}
