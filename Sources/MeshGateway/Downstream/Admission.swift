import Glibc
import MeshControl
import MeshJWT
import MeshProxy
import MeshRateLimit

/// How far a request got through admission; kept in the exchange so a request resumed after a wait is not
/// judged or counted twice.
struct AdmissionProgress {
    /// The verified claim a `claim:<name>` rate limit counts by (nil without one).
    var limitClaim: [UInt8]?
    /// The process limits admitted the request.
    var processLimitsPassed = false
    /// Which global limits admitted it (1: the listener's, 2: the route's).
    var globalLimitsPassed: UInt8 = 0
}

/// What admission decided; the connection performs it.
enum AdmissionVerdict {
    case pass
    /// Answer with this error (and field line: a `www-authenticate` challenge, `retry-after`, …).
    case refuse(GatewayError, extraHeader: String?)
    /// The token's `kid` is unknown and its provider's key refetch is on its way: park until it reports.
    case awaitKeys(ProviderRuntime)
    /// A global limit's reservation is on its way from the store (`digest`), or the store connection is
    /// (`digest` nil): park, at most `timeoutMs`.
    case awaitLimit(digest: UInt64?, timeoutMs: Int)
}

/// Admission (SPEC §3 "JWT providers", SPEC §11): the JWT stage of a protected route — verify the token, check
/// its claims, turn claims into request headers the upstream can trust — then the listener's and the route's
/// rate limits. Decides and counts (metrics, key refetches, store reservations); never answers or parks.
struct Admission {
    /// The listener binding the exchange was routed with (its generation's providers, caches and limits).
    let binding: ListenerBinding
    unowned(unsafe) let worker: Worker
    let clientIP: [UInt8]

    private var telemetry: WorkerTelemetry { binding.generation.telemetry }

    // MARK: - JWT

    /// The route's token check. `cacheIndex` is the provider's slot in the worker's token caches (-1: a reload
    /// retired it while the request waited, so no cache). With `mayWait`, an unknown `kid` whose refetch is on
    /// its way parks the request instead of answering 401 (SPEC §3).
    func token(
        _ view: RequestView, route: CompiledRoute, provider: ProviderRuntime, cacheIndex: Int, mayWait: Bool,
        stage: inout JWTStage, claimLines: inout [UInt8], progress: inout AdmissionProgress
    ) -> AdmissionVerdict {
        let claimName = binding.config.rateLimit?.claimName ?? route.rateLimit?.claimName
        let now = Int64(time(nil))
        let judgement: JWTStage.Judgement
        if cacheIndex >= 0 {
            judgement = stage.judge(
                view, route: route, provider: provider, mayWait: mayWait, limitClaimName: claimName, now: now,
                cache: &binding.generation.tokenCaches[cacheIndex], claimLines: &claimLines)
        } else {
            var scratch = VerifiedTokenCache(capacity: 1)
            judgement = stage.judge(
                view, route: route, provider: provider, mayWait: mayWait, limitClaimName: claimName, now: now,
                cache: &scratch, claimLines: &claimLines)
        }
        if judgement.refetchKeys { worker.requestKeyRefetch(provider.name) }
        if let label = judgement.label { telemetry.jwtValidated(provider: provider.name, result: label) }
        switch judgement.verdict {
        case .pass:
            progress.limitClaim = judgement.limitClaim
            return .pass
        case .awaitKeys:
            return .awaitKeys(provider)
        case .deny(let error):
            return Self.denial(error)
        }
    }

    /// The route timeout passed before the refetch reported: 401 `invalid_token`, as for any unknown kid (the
    /// token could not be verified in time; a 504 would blame an upstream that was never asked).
    func keysNeverCame(_ provider: ProviderRuntime) -> AdmissionVerdict {
        telemetry.jwtValidated(provider: provider.name, result: JWTError.unknownKid.label)
        return Self.denial(.unknownKid)
    }

    /// 401 with `WWW-Authenticate` (RFC 6750 §3: no `error` when the token is missing), or 403 for claims.
    private static func denial(_ error: JWTError) -> AdmissionVerdict {
        var challenge = "www-authenticate: Bearer realm=\"meshgate\""
        if let code = error.bearerErrorCode { challenge += ", error=\"\(code)\"" }
        return .refuse(GatewayError(error), extraHeader: challenge)
    }

    // MARK: - Rate limits

    /// The listener's limit, then the route's, before anything is read or sent.
    func limits(_ view: RequestView, route: CompiledRoute, progress: inout AdmissionProgress) -> AdmissionVerdict {
        let own = binding.config.rateLimit
        if !progress.processLimitsPassed {
            if let denial = CompiledRateLimit.firstDenial(
                listener: own, route: route.rateLimit, request: view, clientIP: clientIP,
                claim: progress.limitClaim, nowNs: worker.loop.nowMs &* 1_000_000)
            {
                return refusal(denial.limit, denial.decision, route: route)
            }
            progress.processLimitsPassed = true
        }
        let listenerVerdict = global(own, bit: 1, view, route: route, progress: &progress)
        guard case .pass = listenerVerdict else { return listenerVerdict }
        return global(route.rateLimit, bit: 2, view, route: route, progress: &progress)
    }

    /// One global limit (a process or absent one passes here).
    private func global(
        _ limit: CompiledRateLimit?, bit: UInt8, _ view: RequestView, route: CompiledRoute,
        progress: inout AdmissionProgress
    ) -> AdmissionVerdict {
        guard let limit, limit.globalIndex >= 0, progress.globalLimitsPassed & bit == 0 else { return .pass }
        let gate = worker.globalLimits
        let config = binding.generation.config
        let outcome = limit.withKey(view, clientIP: clientIP, claim: progress.limitClaim) { key in
            gate.check(limit, config: config, key: key)
        }
        switch outcome {
        case .allowed:
            progress.globalLimitsPassed |= bit
            return .pass
        case .denied(let decision):
            return refusal(limit, decision, route: route)
        case .wait(let digest):
            // The store's own timeout answers first; this bounds the wait if it does not.
            return .awaitLimit(digest: digest, timeoutMs: storeTimeoutMs + 1000)
        case .waitForConnection:
            return .awaitLimit(digest: nil, timeoutMs: max(storeTimeoutMs, 1000) + 1000)
        case .storeError(let allowed):
            telemetry.rateLimitStoreError()
            guard allowed else { return refusalOnStoreError(limit, route: route) }
            progress.globalLimitsPassed |= bit
            return .pass
        }
    }

    /// The store never answered within its timeout (and a second): `on_error` decides.
    func storeNeverAnswered(route: CompiledRoute, progress: inout AdmissionProgress) -> AdmissionVerdict {
        telemetry.rateLimitStoreError()
        if binding.generation.config.source.rateLimits.store?.onError == .deny,
            let limit = route.rateLimit ?? binding.config.rateLimit
        {
            return refusalOnStoreError(limit, route: route)
        }
        progress.globalLimitsPassed = 3
        return .pass
    }

    private var storeTimeoutMs: Int { binding.generation.config.source.rateLimits.store?.timeoutMs ?? 0 }

    private func refusal(_ limit: CompiledRateLimit, _ decision: RateLimitDecision, route: CompiledRoute)
        -> AdmissionVerdict
    {
        telemetry.rateLimited(listener: binding.listenerIndex, route: route.index)
        return .refuse(.rateLimited, extraHeader: limit.deniedFields(decision))
    }

    /// `on_error: "deny"`: a 429 that asks to come back once the store is expected again (its 1 s hold).
    private func refusalOnStoreError(_ limit: CompiledRateLimit, route: CompiledRoute) -> AdmissionVerdict {
        refusal(limit, .denied(retryAfterNs: 1_000_000_000, resetNs: 1_000_000_000), route: route)
    }
}
