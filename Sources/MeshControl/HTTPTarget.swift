/// Where a control-plane request goes, split out of an `http[s]://host[:port][/path][?query]` URL.
///
/// Only what a JWKS or health URL needs: no userinfo, no fragment, default port 80 or 443 (RFC 9110 §4.2),
/// IPv6 literals in brackets (RFC 3986 §3.2.2).
public struct HTTPTarget: Sendable, Equatable {
    /// Host name or IP literal, without brackets.
    public let host: String
    /// TCP port.
    public let port: UInt16
    /// The request-target in origin form (`/path?query`, at least `/`).
    public let path: String
    /// `https://`: the exchange runs over TLS, the server verified against `host`.
    public let secure: Bool

    /// Creates a target from parts.
    public init(host: String, port: UInt16, path: String, secure: Bool = false) {
        self.host = host
        self.port = port
        self.path = path.isEmpty ? "/" : path
        self.secure = secure
    }

    /// The `Host` header value (RFC 9110 §7.2): the port is always written, brackets around IPv6.
    public var hostHeader: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses a URL; schemes other than `http` and `https` are refused with a clear error.
    public static func parse(_ url: String) -> Result<HTTPTarget, HTTPClientError> {
        let parts = url.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .failure(.invalidURL(url)) }
        let scheme = parts[0].lowercased()
        guard scheme == "http" || scheme == "https" else { return .failure(.unsupportedScheme(url)) }
        let secure = scheme == "https"
        let rest = parts[1]
        let isDelimiter: (Character) -> Bool = { $0 == "/" || $0 == "?" || $0 == "#" }
        let authorityEnd = rest.firstIndex(where: isDelimiter) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var path = String(rest[authorityEnd...].prefix { $0 != "#" })
        if path.hasPrefix("?") { path = "/" + path }
        guard !authority.isEmpty, !authority.contains("@") else { return .failure(.invalidURL(url)) }
        let host: Substring
        var portText: Substring? = nil
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return .failure(.invalidURL(url)) }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return .failure(.invalidURL(url)) }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        var port: UInt16 = secure ? 443 : 80
        if let portText {
            guard let parsed = UInt16(portText), parsed > 0 else { return .failure(.invalidURL(url)) }
            port = parsed
        }
        guard !host.isEmpty, !host.contains(" ") else { return .failure(.invalidURL(url)) }
        return .success(HTTPTarget(host: String(host), port: port, path: path, secure: secure))
    }
}
