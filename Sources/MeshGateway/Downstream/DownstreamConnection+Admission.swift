import MeshControl
import MeshHTTP1
import MeshProxy

/// Performing `Admission`'s verdicts: answer, park, or go on; and resuming a parked exchange.
extension DownstreamConnection {
    private var admission: Admission { Admission(binding: listener, worker: worker, clientIP: clientIP) }

    /// The JWT stage of a protected route. True when the request may go on; otherwise it was answered (401,
    /// 403) or parked until its provider's keys are refetched.
    func authorize(_ view: RequestView, route: CompiledRoute) -> Bool {
        claimLines.removeAll(keepingCapacity: true)
        guard route.jwtProvider >= 0, route.config.jwt != nil else { return true }
        let provider = listener.generation.providers[route.jwtProvider]
        return perform(
            admission.token(
                view, route: route, provider: provider, cacheIndex: route.jwtProvider, mayWait: true, stage: &jwt,
                claimLines: &claimLines, progress: &exchange.admission))
    }

    /// The rate limits (SPEC §11). True when the request may go on; otherwise it was answered (429, or
    /// `on_error: deny`) or parked for a global limit's reservation.
    func admittedByLimits(_ view: RequestView, route: CompiledRoute) -> Bool {
        perform(admission.limits(view, route: route, progress: &exchange.admission))
    }

    /// True on `.pass`. A parked exchange sends nothing upstream and reads nothing from the client (its head
    /// and buffered body stay in `buffer` for the re-check); a client that leaves meanwhile closes the
    /// connection like any other.
    private func perform(_ verdict: AdmissionVerdict) -> Bool {
        switch verdict {
        case .pass:
            return true
        case .refuse(let error, let extraHeader):
            respond(error, close: !exchange.machine.request.done, extraHeader: extraHeader)
        case .awaitKeys(let provider):
            exchange.keyWait = provider
            exchange.machine.awaitKeys(now: worker.loop.nowMs)
            syncTimer()
        case .awaitLimit(let digest, let timeoutMs):
            exchange.machine.awaitLimit(now: worker.loop.nowMs, storeTimeoutMs: timeoutMs)
            syncTimer()
            if let digest {
                worker.globalLimits.park(self, digest: digest)
            } else {
                worker.globalLimits.parkUntilConnected(self)
            }
        }
        return false
    }

    // MARK: - Resuming

    /// The provider's refetch reported: judge the same buffered request again on the key set now in force (no
    /// second wait), then go on as `begin` would have.
    func resumeAfterKeys() {
        guard phase == .proxying, let provider = exchange.keyWait, let route = exchange.route else { return }
        exchange.keyWait = nil
        exchange.machine.keysArrived()
        claimLines.removeAll(keepingCapacity: true)
        // A reload while parked may have replaced the provider list: find ours by identity, never by index.
        let cacheIndex = listener.generation.providers.firstIndex { $0 === provider } ?? -1
        readmit { view in
            perform(
                admission.token(
                    view, route: route, provider: provider, cacheIndex: cacheIndex, mayWait: false, stage: &jwt,
                    claimLines: &claimLines, progress: &exchange.admission))
        }
    }

    /// The route timeout passed before the refetch reported.
    func keyWaitExpired() {
        guard let provider = exchange.keyWait else { return }
        exchange.keyWait = nil
        _ = perform(admission.keysNeverCame(provider))
    }

    /// A reservation this exchange waited for answered (or failed): judge the limits again and go on.
    func resumeAfterLimit() {
        guard phase == .proxying, exchange.machine.state == .awaitingLimit else { return }
        exchange.machine.limitArrived()
        readmit { _ in true }
    }

    /// The store never answered within its timeout (and a second): `on_error` decides.
    func limitWaitExpired() {
        exchange.machine.limitArrived()
        guard let route = exchange.route else { return }
        guard perform(admission.storeNeverAnswered(route: route, progress: &exchange.admission)) else { return }
        readmit { _ in true }
    }

    /// Parses the parked request's head again from the client buffer and, when `check` lets it through, admits
    /// it (the admission steps it already passed are not counted again).
    func readmit(_ check: (RequestView) -> Bool) {
        guard let (head, view, pathLength) = bufferedHead() else {
            respond(.badRequest, close: true)
            return
        }
        guard check(view) else { return }
        admit(head, view: view, pathLength: pathLength)
    }
}
