import Glibc
import MeshHTTP1
import MeshJWT
import MeshProxy

/// The JWT stage (SPEC §3 "JWT providers"): verify the token of a protected route, check its claims, and
/// turn claims into request headers the upstream can trust.
extension DownstreamConnection {
    /// True when the request may go on; otherwise a 401/403 has been answered.
    func authorize(_ view: RequestView, route: CompiledRoute) -> Bool {
        claimLines.removeAll(keepingCapacity: true)
        guard route.jwtProvider >= 0, let rule = route.config.jwt else { return true }
        let provider = listener.generation.providers[route.jwtProvider]
        let now = Int64(time(nil))
        let generation = provider.store.current().generation
        // Only for providers that read `Authorization: Bearer` alone: the memo must key on the token verified.
        let presented = provider.extractor.locations == [.bearer] ? TokenMemo.bearerToken(view) : nil
        if let memo = tokenMemo, let presented,
            memo.matches(route: route, generation: generation, now: now, token: presented)
        {
            claimLines.append(contentsOf: memo.claimLines)
            telemetry.jwtValidated(provider: provider.name, result: "success")
            return true
        }
        let outcome = provider.authenticator.authenticate(
            header: { name in Self.values(of: name, in: view) },
            cache: &listener.generation.tokenCaches[route.jwtProvider], now: now)
        if outcome.refetchKeys { worker.requestKeyRefetch(provider.name) }
        switch outcome.result {
        case .failure(.missing) where !rule.required:
            telemetry.jwtValidated(provider: provider.name, result: JWTError.missing.label)
            return true
        case .failure(let error):
            telemetry.jwtValidated(provider: provider.name, result: error.label)
            deny(error)
            return false
        case .success(let token):
            if let error = route.claims.check(token.claims) {
                telemetry.jwtValidated(provider: provider.name, result: error.label)
                deny(error)
                return false
            }
            telemetry.jwtValidated(provider: provider.name, result: "success")
            for (name, value) in route.claims.headers(from: token.claims) {
                claimLines.append(contentsOf: name.utf8)
                claimLines.append(contentsOf: ": ".utf8)
                claimLines.append(contentsOf: value.utf8)
                claimLines.append(contentsOf: "\r\n".utf8)
            }
            if let presented, let expiresAt = token.expiresAt {
                tokenMemo = TokenMemo(
                    route: route, generation: generation, expiresAt: expiresAt,
                    token: Array(presented), claimLines: claimLines)
            }
            return true
        }
    }

    /// 401 with `WWW-Authenticate` (RFC 6750 §3: no `error` when the token is missing), or 403 for claims.
    private func deny(_ error: JWTError) {
        var challenge = "www-authenticate: Bearer realm=\"meshgate\""
        if let code = error.bearerErrorCode { challenge += ", error=\"\(code)\"" }
        respond(error.isForbidden ? .forbidden : .unauthorized, close: !exchange.request.done, extraHeader: challenge)
    }

    /// Values of the header `name` (lowercase), for the token extractor.
    static func values(of name: String, in view: RequestView) -> [Substring] {
        let wanted = Array(name.utf8)
        var found: [Substring] = []
        for i in 0..<view.head.headerCount where Bytes.equalsIgnoringCase(view.name(i), wanted) {
            found.append(Substring(String(decoding: view.value(i), as: UTF8.self)))
        }
        return found
    }
}
