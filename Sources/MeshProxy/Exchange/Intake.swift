import MeshHTTP1

/// Where a request with a complete head goes before any upstream is chosen, in the order that keeps the
/// trust boundary: a head the boundary refuses never reaches a route or an ACME answer (SPEC §4); an http-01
/// challenge on a plaintext listener comes before the redirect to HTTPS and the routes (SPEC §12); the
/// redirect before the routes (SPEC §9); a gateway is not a forward proxy, so CONNECT routes nowhere; and a
/// route that names client identities admits only those verified certificates, before any JWT (SPEC §9).
public enum IntakeVerdict {
    case badRequest
    case acmeChallenge
    case redirectToHTTPS(port: Int)
    case noRoute
    /// Routed, but the client's verified identity (if any) is not one the route allows.
    case forbidden(CompiledRoute)
    case routed(CompiledRoute)
}

public enum Intake {
    /// - Parameters:
    ///   - normalizedPath: the request path normalized, nil when it is invalid or climbs above `/`.
    ///   - acmeChallenge: the listener is plaintext and an ACME http-01 challenge claims the path.
    ///   - peerIdentity: the URI of the client's verified certificate.
    public static func judge(
        _ view: RequestView, normalizedPath: UnsafeRawBufferPointer?, listener: CompiledListener,
        acmeChallenge: Bool, peerIdentity: String?
    ) -> IntakeVerdict {
        guard let path = normalizedPath, TrustBoundary.violation(view, trusted: listener.trustedNames) == nil else {
            return .badRequest
        }
        if acmeChallenge { return .acmeChallenge }
        if let port = listener.config.redirectToHTTPS { return .redirectToHTTPS(port: port) }
        guard view.head.method != .connect, let route = listener.table.match(view, path: path) else { return .noRoute }
        if let allowed = route.config.allowIdentities {
            guard let peerIdentity, allowed.contains(peerIdentity) else { return .forbidden(route) }
        }
        return .routed(route)
    }
}
