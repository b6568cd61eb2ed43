import MeshConfig
import MeshJWT
import MeshTLS

/// Keeps one provider's `jwks.url` key set fresh (SPEC §3): fetch at start, then every `refresh_ms`; a failed
/// fetch keeps the last good set and is retried after `RefreshSchedule`'s back-off (1 s, 2 s, … capped at
/// `refresh_ms`); an unknown-kid refetch (already rate-limited by the store) fetches at once.
///
/// One per `ProviderKeys` (so once per process, not per worker), confined to the control loop's thread.
final class JWKSRefresher {
    /// Upper bound on one fetch: an issuer slower than this is treated as down.
    static let fetchTimeoutMs = 5000
    /// JWKSet.parse refuses documents over 1 MiB.
    static let maxBodyBytes = 1 << 20

    /// The key material this refresher feeds.
    let keys: ProviderKeys
    /// Interval between successful fetches.
    private(set) var refreshMs: Int
    /// Fetches started so far.
    private(set) var fetches = 0
    private unowned let client: HTTPClient
    private let onRefresh: @Sendable (String, Bool, String?) -> Void
    private var timer: LoopTimers.ID?
    private var inFlight = false
    private var stopped = false
    /// The client context for an `https://` URL with `jwks.ca_file`, made on the first fetch (nil: none yet, or
    /// the system store is used).
    private var tls: TLSClientContext?

    init(
        keys: ProviderKeys,
        refreshMs: Int,
        client: HTTPClient,
        onRefresh: @escaping @Sendable (String, Bool, String?) -> Void
    ) {
        self.keys = keys
        self.refreshMs = max(1, refreshMs)
        self.client = client
        self.onRefresh = onRefresh
    }

    /// Fetches now; later fetches follow the schedule.
    func start() { fetch() }

    /// An unknown kid was seen and the store granted the refetch: fetch now, unless a fetch is already running
    /// (its answer is at most a few ms older than the rotation being asked about).
    func refetch() {
        guard !stopped, !inFlight else { return }
        client.timers.cancel(timer)
        fetch()
    }

    /// A reload changed only `refresh_ms`: the next successful fetch is scheduled with the new interval.
    func update(refreshMs: Int) { self.refreshMs = max(1, refreshMs) }

    /// Stops scheduling; a fetch in flight completes but its result is dropped.
    func stop() {
        stopped = true
        client.timers.cancel(timer)
        timer = nil
    }

    private func fetch() {
        guard let url = keys.url, !stopped else { return }
        inFlight = true
        fetches += 1
        let timeout = min(Self.fetchTimeoutMs, refreshMs)
        if let caFile = keys.caFile, tls == nil {
            do {
                var options = TLSClientOptions()
                options.caFile = caFile
                tls = try TLSClientContext(options: options)
            } catch {
                // Retried on the refresh schedule: a CA file written a moment later is picked up then.
                let failure = HTTPClientError.connectFailed(
                    address: URLRedaction.redact(url), reason: "jwks.ca_file \(error)")
                completed(.failure(failure), url: url)
                return
            }
        }
        client.get(url: url, timeoutMs: timeout, maxBodyBytes: Self.maxBodyBytes, tls: tls) { [self] result in
            completed(result, url: url)
        }
    }

    private func completed(_ result: Result<HTTPClientResponse, HTTPClientError>, url: String) {
        inFlight = false
        guard !stopped else { return }
        switch Self.keySet(from: result, url: url) {
        case .success(let set):
            keys.installURLKeys(set, now: ProviderRuntime.unixNow())
            onRefresh(keys.provider, true, nil)
            schedule(afterMs: Int64(refreshMs))
        case .failure(let failure):
            // The store keeps the last good set; only the failure count and the back-off move.
            let delay = keys.store.recordFailure(capMilliseconds: Int64(refreshMs))
            onRefresh(keys.provider, false, failure.message)
            schedule(afterMs: delay)
        }
    }

    private func schedule(afterMs delay: Int64) {
        client.timers.cancel(timer)
        timer = client.timers.schedule(afterMs: delay) { [weak self] in
            self?.timer = nil
            self?.fetch()
        }
    }

    /// A fetched response → key set, or why it is unusable (operator-readable; the URL without credentials).
    static func keySet(
        from result: Result<HTTPClientResponse, HTTPClientError>,
        url: String
    )
        -> Result<JWKSet, KeyLoadFailure>
    {
        let url = URLRedaction.redact(url)
        switch result {
        case .failure(let error):
            return .failure(KeyLoadFailure("fetching \(url): \(error)"))
        case .success(let response) where !response.isSuccess:
            return .failure(KeyLoadFailure("fetching \(url): HTTP status \(response.status)"))
        case .success(let response):
            switch JWKSet.parse(response.body, source: .url) {
            case .success(let set): return .success(set)
            case .failure(let error):
                return .failure(KeyLoadFailure("\(url) did not return a usable JWK Set (\(error.label))"))
            }
        }
    }
}
