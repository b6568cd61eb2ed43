import MeshBlockingHTTP

/// A blocking `GET` for the sidecar's app health URL (`http://host:port/path`), on its own thread, through the
/// one blocking HTTP client.
enum HealthProbe {
    /// The response status, or nil when the app is not reachable or does not answer HTTP within `timeoutMs`.
    static func get(_ url: String, timeoutMs: Int) -> Int? {
        guard url.hasPrefix("http://") else { return nil }
        let rest = url.dropFirst(7)
        let authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)
        guard let colon = authority.lastIndex(of: ":"), let port = UInt16(authority[authority.index(after: colon)...])
        else { return nil }
        var host = authority[..<colon]
        if host.first == "[" && host.last == "]" { host = host.dropFirst().dropLast() }
        let request = BlockingHTTPRequest(method: "GET", host: String(host), port: port, target: String(path))
        return try? BlockingHTTPClient.send(request, timeoutMs: timeoutMs, maxBodyBytes: 64 * 1024).status
    }
}
