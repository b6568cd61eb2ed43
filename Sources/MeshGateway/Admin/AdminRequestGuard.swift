import MeshHTTP1
import MeshPosix

/// Keeps web pages away from the admin listener (SPEC §6): DNS rebinding and cross-site requests.
///
/// A browser tricked into talking to the admin port sends the attacker's name in `Host` (DNS rebinding) or its
/// page's origin in `Origin` (a cross-site form or fetch). So every request must name the admin listener by
/// something a web page cannot rebind: `localhost`, a loopback literal (`127.0.0.1`, `[::1]`), the listener's
/// own IP, or (when it binds a wildcard address, as in Kubernetes where probes and scrapers use the Pod IP)
/// any IP literal. The port is not compared: port forwarding (`kubectl port-forward`) changes it and it is not
/// what a rebinding attack controls. A `POST` carrying an `Origin` must name such a host over `http`.
/// A request without `Host` (HTTP/1.0) is allowed: browsers always send one.
struct AdminRequestGuard: Sendable {
    /// The bound IP in its URL spelling (`127.0.0.1`, `[::1]`), lowercase.
    let ownHost: String
    /// The listener binds 0.0.0.0 or [::]: reachable on every interface by IP.
    let wildcard: Bool

    init(bound: SocketAddress) {
        let ip = bound.ipString.lowercased()
        ownHost = ip.contains(":") ? "[\(ip)]" : ip
        wildcard = ip == "0.0.0.0" || ip == "::"
    }

    /// Why the request is refused (a 403 with a JSON body), or nil to serve it.
    func check(method: HTTPMethod, host: String?, origins: [String]) -> AdminResponse? {
        if let host, !allowed(authority: host) {
            return AdminRouter.error(403, "host_not_allowed")
        }
        guard method == .post, !origins.isEmpty else { return nil }
        guard origins.count == 1, allowed(origin: origins[0]) else {
            return AdminRouter.error(403, "origin_not_allowed")
        }
        return nil
    }

    /// `Origin: http://HOST[:PORT]` with an allowed host; `null`, other schemes and paths are refused.
    func allowed(origin: String) -> Bool {
        let lower = origin.lowercased()
        guard lower.hasPrefix("http://") else { return false }
        return allowed(authority: String(lower.dropFirst("http://".count)))
    }

    /// `HOST[:PORT]` where HOST is allowed and PORT, when present, is 1-5 digits.
    func allowed(authority: String) -> Bool {
        guard let (host, port) = Self.split(authority.lowercased()) else { return false }
        if let port, port.isEmpty || port.count > 5 || !port.allSatisfy({ $0 >= "0" && $0 <= "9" }) { return false }
        if host == "localhost" || host == "127.0.0.1" || host == "[::1]" || host == ownHost { return true }
        return wildcard && Self.isIPLiteral(host)
    }

    /// Splits `host[:port]`; a bracketed IPv6 host keeps its brackets. Nil when malformed.
    static func split(_ authority: String) -> (host: String, port: Substring?)? {
        guard !authority.isEmpty else { return nil }
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            let host = String(authority[...close])
            let rest = authority[authority.index(after: close)...]
            if rest.isEmpty { return (host, nil) }
            guard rest.hasPrefix(":") else { return nil }
            return (host, rest.dropFirst())
        }
        let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, !parts[0].isEmpty else { return nil }
        return (String(parts[0]), parts.count == 2 ? parts[1] : nil)
    }

    /// A dotted-quad IPv4 or a bracketed IPv6 literal (as `inet_pton` reads them).
    static func isIPLiteral(_ name: String) -> Bool {
        if name.hasPrefix("[") && name.hasSuffix("]") {
            return SocketAddress(numericHost: String(name.dropFirst().dropLast()), port: 0) != nil
        }
        return name.contains(".") && SocketAddress(numericHost: name, port: 0) != nil
    }
}
