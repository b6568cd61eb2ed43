import MeshControl
import MeshJSON
import MeshJWT
import MeshProxy

/// SPEC §3 "JWT providers" for the requests of one client connection: verify the token of a protected route,
/// check its claims, and turn claims into request lines the upstream can trust. Keep-alive clients resend the
/// same token, so the last one verified is remembered (`memo`). Decides only: the connection counts, parks
/// or answers as the judgement says.
struct JWTStage {
    /// The last verified token on the connection.
    var memo: TokenMemo?

    enum Verdict: Equatable {
        case pass
        /// An unknown `kid` whose key refetch is on its way: wait for it (SPEC §3), then judge again.
        case awaitKeys
        case deny(JWTError)
    }

    struct Judgement {
        var verdict: Verdict
        /// `meshgate_jwt_validations_total`'s `result` label; nil while the request waits for keys.
        var label: String?
        /// The provider should refetch its key set (an unknown `kid`).
        var refetchKeys = false
        /// The value of the claim a `claim:<name>` rate limit counts by.
        var limitClaim: [UInt8]?
    }

    /// Judges the token of `view` for `route` with `provider` and the worker's token cache for it. Appends the
    /// claim lines of a passing token to `claimLines`.
    mutating func judge(
        _ view: RequestView, route: CompiledRoute, provider: ProviderRuntime, mayWait: Bool, limitClaimName: String?,
        now: Int64, cache: inout VerifiedTokenCache, claimLines: inout [UInt8]
    ) -> Judgement {
        guard let rule = route.config.jwt else { return Judgement(verdict: .pass) }
        let generation = provider.store.current().generation
        // Only for providers that read `Authorization: Bearer` alone: the memo must key on the token verified.
        let presented = provider.extractor.locations == [.bearer] ? TokenMemo.bearerToken(view) : nil
        if let memo, let presented, memo.matches(route: route, generation: generation, now: now, token: presented) {
            claimLines.append(contentsOf: memo.claimLines)
            return Judgement(verdict: .pass, label: "success", limitClaim: memo.limitClaim)
        }
        // Closure literals passed straight down stay non-escaping: no allocation per request.
        let outcome = provider.authenticator.authenticate(
            header: { name in Self.values(of: name, in: view) }, cache: &cache, now: now)
        var judgement = Judgement(verdict: .pass, refetchKeys: outcome.refetchKeys)
        switch outcome.result {
        case .failure(.unknownKid) where mayWait && outcome.awaitKeys:
            // Counted once, when the wait ends and the token is judged.
            judgement.verdict = .awaitKeys
        case .failure(.missing) where !rule.required:
            judgement.label = JWTError.missing.label
        case .failure(let error):
            judgement.verdict = .deny(error)
            judgement.label = error.label
        case .success(let token):
            if let error = route.claims.check(token.claims) {
                judgement.verdict = .deny(error)
                judgement.label = error.label
                return judgement
            }
            judgement.label = "success"
            for (name, value) in route.claims.headers(from: token.claims) {
                claimLines.append(contentsOf: name.utf8)
                claimLines.append(contentsOf: ": ".utf8)
                claimLines.append(contentsOf: value.utf8)
                claimLines.append(contentsOf: "\r\n".utf8)
            }
            if let limitClaimName, let node = token.claims[limitClaimName], let text = ClaimsCheck.scalarText(node) {
                judgement.limitClaim = Array(text.utf8)
            }
            if let presented, let expiresAt = token.expiresAt {
                memo = TokenMemo(
                    route: route, generation: generation, expiresAt: expiresAt, token: Array(presented),
                    claimLines: claimLines, limitClaim: judgement.limitClaim)
            }
        }
        return judgement
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
