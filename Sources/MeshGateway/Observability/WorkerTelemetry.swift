import MeshConfig
import MeshHTTP1
import MeshLog
import MeshMetrics
import MeshOTLP
import MeshResilience

/// One worker's recording surface: its metrics shard, its log ring and a reusable line buffer.
///
/// Called only on the owning worker's thread (it is `Sendable` only so it can be handed to that thread). Metric
/// recording takes no lock and allocates nothing; with access logs off, `requestFinished` allocates nothing either,
/// and with them on it formats into a buffer reused for every line and copies the line into the worker's ring
/// (dropped and counted, never waited for, when the ring is full). Indexes that are out of range for this config
/// are ignored rather than trapping: a late call from an exchange of another generation must not crash a worker.
public final class WorkerTelemetry: @unchecked Sendable {
    /// The worker index this belongs to.
    public let index: Int
    let shard: MetricsShard
    let handles: MetricHandles
    let ring: LogRing
    let connections: ConnectionTable
    let names: AccessLogNames
    let service: String
    var line = LogLine(capacity: 1024)
    /// This worker's span queue and the names of this generation, nil when span export is off.
    let spans: (queue: OTLPSpanQueue, names: OTLPNames)?

    /// Whether `requestFinished` writes access-log lines (`logging.access_log`); the exchange may skip filling
    /// the record's strings (path, client, ids) when false.
    public let accessLogEnabled: Bool

    /// Whether sampled requests become OTLP spans (`tracing.otlp_endpoint` set). When true, the exchange fills
    /// the record's span fields (`sampled`, `trace`, `span`, `parentSpan`, `spanAttempts`, and for sampled
    /// requests the strings `path`, `host`, `client`, `requestID`).
    public var spanExportEnabled: Bool { spans != nil }

    init(
        index: Int, shard: MetricsShard, handles: MetricHandles, ring: LogRing, connections: ConnectionTable,
        names: AccessLogNames, service: String, accessLog: Bool,
        spans: (queue: OTLPSpanQueue, names: OTLPNames)? = nil
    ) {
        self.index = index
        self.shard = shard
        self.handles = handles
        self.ring = ring
        self.connections = connections
        self.names = names
        self.service = service
        accessLogEnabled = accessLog
        self.spans = spans
    }

    /// Records a finished request: `http_requests_total{listener,route,method,code}`,
    /// `http_request_duration_seconds{listener,route}` and, when enabled, one access-log line (SPEC §5); a
    /// sampled request is queued for span export when that is on (dropped and counted if the queue is full).
    public func requestFinished(_ r: borrowing RequestRecord) {
        guard r.listener >= 0, r.listener < handles.slotBase.count else { return }
        let routeCount = names.routes[r.listener].count
        let slot = handles.slotBase[r.listener] + (r.route >= 0 && r.route < routeCount ? r.route + 1 : 0)
        let method = GatewayMetrics.methodIndex(r.method)
        shard.add(handles.requests[slot * GatewayMetrics.methods.count + method], status: r.status)
        shard.observe(handles.durations[slot], max(0, r.durationSeconds))
        if r.grpcStatus >= 0 { shard.add(handles.grpc[slot], status: r.grpcStatus) }
        if accessLogEnabled { writeAccessLine(r) }
        if r.sampled, let spans { spans.queue.push(r, names: spans.names) }
    }

    /// Records one upstream attempt: `meshgate_upstream_requests_total{upstream,endpoint,outcome}` and
    /// `meshgate_upstream_request_duration_seconds{upstream}`.
    public func attemptFinished(upstream: Int, endpoint: Int, outcome: AttemptOutcome, durationSeconds: Double) {
        guard upstream >= 0, upstream < handles.endpointBase.count, endpoint >= 0,
            endpoint < names.endpoints[upstream].count
        else { return }
        let series = (handles.endpointBase[upstream] + endpoint) * MetricHandles.outcomes.count
        shard.add(handles.attempts[series + MetricHandles.outcomeIndex(outcome)])
        shard.observe(handles.attemptDurations[upstream], max(0, durationSeconds))
    }

    /// Counts one retry (an attempt after the first) on a route: `meshgate_retries_total{route}`.
    public func retried(listener: Int, route: Int) {
        guard let i = routeIndex(listener, route) else { return }
        shard.add(handles.retries[i])
    }

    /// Counts a request refused by a rate limit: `meshgate_rate_limited_total{route}`.
    public func rateLimited(listener: Int, route: Int) {
        guard let i = routeIndex(listener, route) else { return }
        shard.add(handles.rateLimited[i])
    }

    /// Counts a global-limit check decided by `on_error`: `meshgate_rate_limit_store_errors_total`.
    public func rateLimitStoreError() {
        shard.add(handles.rateLimitStoreErrors)
    }

    /// Counts a fallback response: `meshgate_fallbacks_total{route,reason}`.
    public func fallbackServed(listener: Int, route: Int, reason: FallbackOn) {
        guard let i = routeIndex(listener, route) else { return }
        shard.add(handles.fallbacks[i * MetricHandles.reasons.count + MetricHandles.reasonIndex(reason)])
    }

    /// Counts a JWT validation: `meshgate_jwt_validations_total{provider,result}`; `result` is `"success"` or a
    /// `JWTError.label` (an unknown label counts as `other`, an unknown provider is ignored).
    public func jwtValidated(provider: String, result: String) {
        guard let row = handles.jwt[provider] else { return }
        let i = MetricHandles.jwtResultIndex[result] ?? GatewayMetrics.jwtResults.count - 1
        shard.add(row[i])
    }

    /// A client connection was accepted on `listener`: `meshgate_connections_active{listener}` +1.
    public func connectionOpened(listener: Int) {
        guard listener >= 0, listener < handles.connections.count else { return }
        shard.add(handles.connections[listener], 1)
    }

    /// A TLS client connection on `listener` finished its handshake, or failed before it did.
    public func tlsHandshake(listener: Int, success: Bool) {
        let index = listener * 2 + (success ? 0 : 1)
        guard listener >= 0, index < handles.tlsHandshakes.count, let handle = handles.tlsHandshakes[index] else {
            return
        }
        shard.add(handle, 1)
    }

    /// A client connection on `listener` closed: `meshgate_connections_active{listener}` −1.
    public func connectionClosed(listener: Int) {
        guard listener >= 0, listener < handles.connections.count else { return }
        shard.add(handles.connections[listener], -1)
    }

    /// Upstream connection deltas for the gauge `meshgate_upstream_connections{upstream,state}` only (no
    /// per-endpoint counts: prefer `upstreamConnections(upstream:endpoint:activeDelta:idleDelta:)`).
    public func upstreamConnections(upstream: Int, activeDelta: Int, idleDelta: Int) {
        guard upstream >= 0, upstream * 2 + 1 < handles.upstreamConnections.count else { return }
        if activeDelta != 0 { shard.add(handles.upstreamConnections[upstream * 2], Int64(activeDelta)) }
        if idleDelta != 0 { shard.add(handles.upstreamConnections[upstream * 2 + 1], Int64(idleDelta)) }
    }

    /// Upstream connection deltas for one endpoint: the gauge above plus `/upstreams`' `active`/`idle`.
    /// Active = carrying a request, idle = pooled; moving a connection to the pool is `(-1, +1)`.
    public func upstreamConnections(upstream: Int, endpoint: Int, activeDelta: Int, idleDelta: Int) {
        upstreamConnections(upstream: upstream, activeDelta: activeDelta, idleDelta: idleDelta)
        connections.add(worker: index, upstream: upstream, endpoint: endpoint, active: activeDelta, idle: idleDelta)
    }

    /// Global route index for the per-route arrays, nil when out of range.
    @inline(__always)
    private func routeIndex(_ listener: Int, _ route: Int) -> Int? {
        guard listener >= 0, listener < handles.routeBase.count, route >= 0, route < names.routes[listener].count
        else { return nil }
        return handles.routeBase[listener] + route
    }
}
