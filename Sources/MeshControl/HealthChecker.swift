import MeshConfig
import MeshTLS

/// Active health checks of one upstream (SPEC §3 `health_check`): every `interval_ms`, `GET path` on each
/// endpoint with `timeout_ms`; a 2xx is a success, anything else (status, timeout, refused) a failure.
/// `HealthProbeState` turns results into transitions, which are stored in the shared `EndpointState` (workers
/// skip unhealthy endpoints) and reported through `onChange`.
///
/// An endpoint whose previous probe is still running is not probed again in that round. Confined to the
/// control loop's thread.
final class HealthChecker {
    /// Probe bodies are not used; cap what a misbehaving endpoint can make us buffer.
    static let maxBodyBytes = 64 * 1024

    let upstream: String
    let policy: HealthCheckConfig
    /// The upstream's TLS: probes speak it too, with the same CA, client certificate and server name.
    let tls: UpstreamTLSConfig?
    /// Made on the first probe (files may appear after the config); a failure is a failed probe.
    private var tlsContext: TLSClientContext?
    let endpoints: [EndpointState]
    /// Probes started so far, per endpoint.
    private(set) var probesStarted: [Int]
    private var states: [HealthProbeState]
    private var inFlight: [Bool]
    private unowned let client: HTTPClient
    private let addresses: ResolvedAddresses
    private let onChange: @Sendable (String, HostPort, EndpointHealth) -> Void
    private var timer: LoopTimers.ID?
    private var stopped = false

    init(
        upstream: String,
        policy: HealthCheckConfig,
        tls: UpstreamTLSConfig? = nil,
        endpoints: [EndpointState],
        client: HTTPClient,
        addresses: ResolvedAddresses,
        onChange: @escaping @Sendable (String, HostPort, EndpointHealth) -> Void
    ) {
        self.upstream = upstream
        self.policy = policy
        self.tls = tls
        self.endpoints = endpoints
        self.client = client
        self.addresses = addresses
        self.onChange = onChange
        // Continue from what the shared state says, so a reload that rebuilds the checker does not forget.
        states = endpoints.map {
            HealthProbeState(
                health: $0.health,
                healthyThreshold: policy.healthyThreshold,
                unhealthyThreshold: policy.unhealthyThreshold
            )
        }
        inFlight = Array(repeating: false, count: endpoints.count)
        probesStarted = Array(repeating: 0, count: endpoints.count)
    }

    /// True when this checker already does what `policy` over `endpoints` asks (a reload may keep it).
    func matches(policy other: HealthCheckConfig, tls otherTLS: UpstreamTLSConfig?, endpoints others: [EndpointState])
        -> Bool
    {
        tls == otherTLS && policy.path == other.path && policy.intervalMs == other.intervalMs && policy.timeoutMs == other.timeoutMs
            && policy.healthyThreshold == other.healthyThreshold
            && policy.unhealthyThreshold == other.unhealthyThreshold
            && endpoints.count == others.count && zip(endpoints, others).allSatisfy { $0 === $1 }
    }

    /// Probes every endpoint now, then every `interval_ms`.
    func start() { tick() }

    /// Stops probing; results of probes in flight are dropped.
    func stop() {
        stopped = true
        client.timers.cancel(timer)
        timer = nil
    }

    private func tick() {
        guard !stopped else { return }
        for index in endpoints.indices where !inFlight[index] { probe(index) }
        timer = client.timers.schedule(afterMs: Int64(policy.intervalMs)) { [weak self] in self?.tick() }
    }

    private func probe(_ index: Int) {
        let endpoint = endpoints[index].address
        probesStarted[index] += 1
        guard let address = addresses.snapshot().addresses(upstream: upstream, endpoint: endpoint).first else {
            // Never resolved: that is a failed probe, not a reason to keep the endpoint's old verdict.
            return record(index, success: false)
        }
        var context: TLSClientContext?
        if let tls {
            do {
                context = try tlsContext
                    ?? UpstreamTLSContexts.context(
                        tls, path: upstream, nowSeconds: ListenerTLSStore.wallClockSeconds())
                tlsContext = context
            } catch {
                return record(index, success: false)
            }
        }
        inFlight[index] = true
        // Over TLS the probe names (and verifies) `server_name` when one is configured.
        let host = tls?.serverName ?? endpoint.host
        let target = HTTPTarget(host: host, port: endpoint.port, path: policy.path, secure: tls != nil)
        client.get(
            address: address, target: target, timeoutMs: policy.timeoutMs, maxBodyBytes: Self.maxBodyBytes,
            tls: context
        ) { [weak self] result in
            guard let self else { return }
            self.inFlight[index] = false
            guard !self.stopped else { return }
            let success = (try? result.get())?.isSuccess ?? false
            self.record(index, success: success)
        }
    }

    private func record(_ index: Int, success: Bool) {
        guard let health = states[index].record(success: success) else { return }
        endpoints[index].setHealth(health)
        onChange(upstream, endpoints[index].address, health)
    }
}
