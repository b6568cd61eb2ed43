import Glibc
import MeshControl
import MeshHTTP1
import MeshJSON
import MeshJWT
import MeshProxy
import MeshRateLimit

/// Admission: the JWT stage (SPEC §3 "JWT providers": verify the token of a protected route, check its
/// claims, turn claims into request headers the upstream can trust), then the rate limits (SPEC §11).
extension DownstreamConnection {
    /// True when the request may go on; otherwise a 401/403 has been answered, or the exchange is parked
    /// waiting for a key refetch (`exchange.keyWait`; `resumeAfterKeys` or the deadline continues it).
    func authorize(_ view: RequestView, route: CompiledRoute) -> Bool {
        claimLines.removeAll(keepingCapacity: true)
        guard route.jwtProvider >= 0, route.config.jwt != nil else { return true }
        let provider = listener.generation.providers[route.jwtProvider]
        return judge(view, route: route, provider: provider, cacheIndex: route.jwtProvider, mayWait: true)
    }

    /// Checks the token of `view` with `provider` (the JWT stage decides; this counts, parks or answers).
    /// `cacheIndex` is the provider's slot in the worker's token caches (-1: a reload retired it while the
    /// request waited, so no cache). With `mayWait`, an unknown `kid` whose refetch is on its way parks the
    /// exchange instead of answering 401 (SPEC §3).
    private func judge(
        _ view: RequestView, route: CompiledRoute, provider: ProviderRuntime, cacheIndex: Int, mayWait: Bool
    ) -> Bool {
        let claimName = listener.config.rateLimit?.claimName ?? route.rateLimit?.claimName
        let now = Int64(time(nil))
        let judgement: JWTStage.Judgement
        if cacheIndex >= 0 {
            judgement = jwt.judge(
                view, route: route, provider: provider, mayWait: mayWait, limitClaimName: claimName, now: now,
                cache: &listener.generation.tokenCaches[cacheIndex], claimLines: &claimLines)
        } else {
            var scratch = VerifiedTokenCache(capacity: 1)
            judgement = jwt.judge(
                view, route: route, provider: provider, mayWait: mayWait, limitClaimName: claimName, now: now,
                cache: &scratch, claimLines: &claimLines)
        }
        if judgement.refetchKeys { worker.requestKeyRefetch(provider.name) }
        if let label = judgement.label { telemetry.jwtValidated(provider: provider.name, result: label) }
        switch judgement.verdict {
        case .pass:
            exchange.limitClaim = judgement.limitClaim
            return true
        case .awaitKeys:
            park(provider)
            return false
        case .deny(let error):
            deny(error)
            return false
        }
    }

    // MARK: - Waiting for keys (SPEC §3: an unknown kid waits for the refetch)

    /// Parks the exchange: nothing goes upstream, the client is not read (its head and buffered body stay in
    /// `buffer` for the re-check), and the route's `timeout_ms` bounds the wait. The parked state is one
    /// reference in the exchange; a client that leaves while parked closes the connection like any other.
    private func park(_ provider: ProviderRuntime) {
        exchange.keyWait = provider
        exchange.machine.awaitKeys(now: worker.loop.nowMs)
        syncTimer()
    }

    /// The provider's refetch reported: judge the same buffered request again on the key set now in force
    /// (no second wait), then go on as `begin` would have.
    func resumeAfterKeys() {
        guard phase == .proxying, let provider = exchange.keyWait, let route = exchange.route else { return }
        exchange.keyWait = nil
        exchange.machine.keysArrived()
        guard let (head, view, pathLength) = bufferedHead() else {
            respond(.badRequest, close: true)
            return
        }
        claimLines.removeAll(keepingCapacity: true)
        // A reload while parked may have replaced the provider list: find ours by identity, never by index.
        let cacheIndex = listener.generation.providers.firstIndex { $0 === provider } ?? -1
        guard judge(view, route: route, provider: provider, cacheIndex: cacheIndex, mayWait: false) else { return }
        admit(head, view: view, pathLength: pathLength)
    }

    /// The route timeout passed before the refetch reported: 401 `invalid_token`, as for any unknown kid
    /// (the token could not be verified in time; a 504 would blame an upstream that was never asked).
    func keyWaitExpired() {
        guard let provider = exchange.keyWait else { return }
        exchange.keyWait = nil
        telemetry.jwtValidated(provider: provider.name, result: JWTError.unknownKid.label)
        deny(.unknownKid)
    }

    /// 401 with `WWW-Authenticate` (RFC 6750 §3: no `error` when the token is missing), or 403 for claims.
    private func deny(_ error: JWTError) {
        var challenge = "www-authenticate: Bearer realm=\"meshgate\""
        if let code = error.bearerErrorCode { challenge += ", error=\"\(code)\"" }
        respond(GatewayError(error), close: !exchange.machine.request.done, extraHeader: challenge)
    }

    // MARK: - Rate limits (SPEC §11)

    /// The listener's limit, then the route's, before anything is read or sent. True when the request may go
    /// on; otherwise it was answered (429, or `on_error: deny`) or parked for a global limit's reservation.
    func admittedByLimits(_ view: RequestView, route: CompiledRoute) -> Bool {
        let own = listener.config.rateLimit
        if !exchange.processLimitsPassed {
            if let denial = CompiledRateLimit.firstDenial(
                listener: own, route: route.rateLimit, request: view, clientIP: clientIP,
                claim: exchange.limitClaim, nowNs: worker.loop.nowMs &* 1_000_000)
            {
                refuse(denial.limit, denial.decision, route: route)
                return false
            }
            exchange.processLimitsPassed = true
        }
        return passes(own, bit: 1, view, route: route) && passes(route.rateLimit, bit: 2, view, route: route)
    }

    /// One global limit (a process or absent one passes here).
    private func passes(_ limit: CompiledRateLimit?, bit: UInt8, _ view: RequestView, route: CompiledRoute) -> Bool {
        guard let limit, limit.globalIndex >= 0, exchange.globalLimitsPassed & bit == 0 else { return true }
        let gate = worker.globalLimits
        let config = listener.generation.config
        let outcome = limit.withKey(view, clientIP: clientIP, claim: exchange.limitClaim) { key in
            gate.check(limit, config: config, key: key)
        }
        switch outcome {
        case .allowed:
            exchange.globalLimitsPassed |= bit
            return true
        case .denied(let decision):
            refuse(limit, decision, route: route)
            return false
        case .wait(let digest):
            exchange.machine.awaitLimit(now: worker.loop.nowMs, storeTimeoutMs: storeTimeoutMs + 1000)
            syncTimer()
            gate.park(self, digest: digest)
            return false
        case .waitForConnection:
            exchange.machine.awaitLimit(now: worker.loop.nowMs, storeTimeoutMs: max(storeTimeoutMs, 1000) + 1000)
            syncTimer()
            gate.parkUntilConnected(self)
            return false
        case .storeError(let allowed):
            telemetry.rateLimitStoreError()
            if allowed { exchange.globalLimitsPassed |= bit } else { refuseOnStoreError(limit, route: route) }
            return allowed
        }
    }

    private var storeTimeoutMs: Int { listener.generation.config.source.rateLimits.store?.timeoutMs ?? 0 }

    private func refuse(_ limit: CompiledRateLimit, _ decision: RateLimitDecision, route: CompiledRoute) {
        telemetry.rateLimited(listener: listener.listenerIndex, route: route.index)
        respond(.rateLimited, close: !exchange.machine.request.done, extraHeader: limit.deniedFields(decision))
    }

    /// `on_error: "deny"`: a 429 that asks to come back once the store is expected again (its 1 s hold).
    private func refuseOnStoreError(_ limit: CompiledRateLimit, route: CompiledRoute) {
        refuse(limit, .denied(retryAfterNs: 1_000_000_000, resetNs: 1_000_000_000), route: route)
    }

    /// A reservation this exchange waited for answered (or failed): judge the limits again and go on.
    func resumeAfterLimit() {
        guard phase == .proxying, exchange.machine.state == .awaitingLimit else { return }
        exchange.machine.limitArrived()
        guard let (head, view, pathLength) = bufferedHead() else {
            respond(.badRequest, close: true)
            return
        }
        admit(head, view: view, pathLength: pathLength)
    }

    /// The store never answered within its timeout (and a second): `on_error` decides.
    func limitWaitExpired() {
        telemetry.rateLimitStoreError()
        exchange.machine.limitArrived()
        guard let route = exchange.route else { return }
        if listener.generation.config.source.rateLimits.store?.onError == .deny {
            refuseOnStoreError(route.rateLimit ?? listener.config.rateLimit!, route: route)
            return
        }
        exchange.globalLimitsPassed = 3
        guard let (head, view, pathLength) = bufferedHead() else {
            respond(.badRequest, close: true)
            return
        }
        admit(head, view: view, pathLength: pathLength)
    }
}
