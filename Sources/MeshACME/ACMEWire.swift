/// What is ACME's own in an HTTP/1.1 exchange, as pure functions: the URL split for connecting and the request's
/// fields. The exchange itself is MeshBlockingHTTP's (MeshGateway's `ACMETransport`).
public enum ACMEWire {
    /// An `https://host[:port]/path` URL split for connecting; ACME runs over HTTPS only (RFC 8555 §6.1).
    public struct Target: Sendable, Equatable {
        public var host: String
        public var port: UInt16
        public var path: String
    }

    public static func parse(url: String) -> Target? {
        guard url.hasPrefix("https://") else { return nil }
        let rest = url.dropFirst("https://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        let path = slash == rest.endIndex ? "/" : String(rest[slash...])
        var host = Substring(authority)
        var port: UInt16 = 443
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let parsed = UInt16(after.dropFirst()) else { return nil }
                port = parsed
            } else if !after.isEmpty {
                return nil
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard let parsed = UInt16(authority[authority.index(after: colon)...]) else { return nil }
            port = parsed
        }
        guard !host.isEmpty, !path.contains(" "), !path.contains("\r"), !path.contains("\n") else { return nil }
        return Target(host: String(host), port: port, path: path)
    }

    /// The fields ACME adds to a request (the client writes Host, Content-Length and `Connection: close`); a
    /// body is sent as `application/jose+json` (RFC 8555 §6.2).
    public static func headers(_ request: ACMERequest) -> [(name: String, value: String)] {
        var fields = [(name: "User-Agent", value: "meshgate-acme"), (name: "Accept", value: "*/*")]
        if request.body != nil { fields.append((name: "Content-Type", value: "application/jose+json")) }
        return fields
    }
}
