import CLinux
import MeshConfig
import MeshControl
import MeshLog
import MeshMetrics
import MeshOTLP
import MeshProxy
import MeshResilience

/// Process-wide observability for one config generation: the metrics registry (families from `GatewayMetrics`),
/// the access-log / event-log writer, and the counters of rare process-wide events.
///
/// Thread-safe. `worker(_:)` hands each worker thread its own `WorkerTelemetry` (no locks on the request path).
/// On reload, build a new `Telemetry` with `previous:`: counters and histograms of unchanged series keep counting
/// (the registry continues the previous one), the log writer, the breaker-transition / reload / JWKS counters and,
/// when the upstream layout is unchanged, the per-endpoint connection table are shared. Call `detachPrevious()`
/// once no exchange records into the previous generation any more, and `stop()` once, at shutdown, on the last one.
public final class Telemetry: Sendable {
    /// The config these series were registered for.
    public let config: CompiledConfig
    /// The registry; `metricsText()` renders it.
    public let registry: MetricsRegistry
    /// `endpoints[upstream][endpoint]`: breaker and health, read at scrape and by `/upstreams`.
    public let endpoints: [[EndpointState]]
    /// Per-endpoint upstream connection counts (`/upstreams` active/idle).
    public let connections: ConnectionTable
    /// The log writer (stdout by default), shared across reloads.
    public let log: LogWriter
    /// The span exporter when `tracing.otlp_endpoint` is set; shared across reloads while the endpoint stays.
    public let exporter: OTLPExporter?
    let counters: ProcessCounters
    let workers: [WorkerTelemetry]
    /// `logging.level` as MeshLog's type.
    let level: LogSeverity
    /// `tracing.service_name`, the `service` field of every line.
    let service: String

    /// Registers every series for `config` and `workers` worker threads.
    ///
    /// - Parameters:
    ///   - endpoints: `EndpointRegistry.states(for: config.source)`; nil makes fresh states (tests, tools).
    ///   - previous: the telemetry of the config being replaced (reload), or nil at start.
    ///   - output: where log lines go when there is no `previous` (stdout). Not closed by `stop()`.
    ///   - levelOverride: `--log-level`, which wins over `logging.level`.
    ///   - otlp: the span exporter's tuning (tests shorten the intervals); used only when a new exporter starts.
    public init(
        config: CompiledConfig, workers: Int, endpoints: [[EndpointState]]? = nil, previous: Telemetry? = nil,
        output: Int32 = 1, levelOverride: LogLevel? = nil, otlp: OTLPExporter.Options = OTLPExporter.Options()
    ) {
        let workerCount = max(1, workers)
        self.config = config
        self.endpoints = endpoints ?? EndpointRegistry().states(for: config.source)
        log = previous?.log ?? LogWriter(fd: output, producers: workerCount)
        counters = previous?.counters ?? ProcessCounters()
        let layout = config.upstreamNames.indices.map { config.upstream(at: $0).endpoints.map(\.description) }
        if let previous, previous.connections.layout == layout, previous.connections.workers == workerCount {
            connections = previous.connections
        } else {
            connections = ConnectionTable(layout: layout, workers: workerCount)
        }
        level = LogSeverity(name: (levelOverride ?? config.source.logging.level).rawValue) ?? .info
        service = config.source.tracing.serviceName
        exporter = Self.exporter(
            for: config, workers: workerCount, previous: previous, log: log, level: level, options: otlp)
        var builder = MetricsRegistryBuilder()
        let handles: MetricHandles
        do {
            handles = try MetricHandles(config: config, builder: &builder)
            try Self.registerCallbacks(
                &builder, config: config, endpoints: self.endpoints, counters: counters, log: log,
                exporter: exporter)
        } catch {
            // The declarations are static and the label sets come from a validated config: a bug, not input.
            fatalError("meshgate metric declarations are inconsistent: \(error)")
        }
        registry = builder.build(shards: workerCount, continuing: previous?.registry)
        counters.set(ProcessCounters.key(GatewayMetrics.configGeneration.name), Double(config.generation))
        let names = AccessLogNames(config)
        let accessLog = config.source.logging.accessLog && log.producerCount > 0
        let spanNames = exporter.map { _ in OTLPNames(config) }
        var made: [WorkerTelemetry] = []
        for i in 0..<workerCount {
            let spans = exporter.flatMap { exporter in spanNames.map { (queue: exporter.queue(i), names: $0) } }
            made.append(
                WorkerTelemetry(
                    index: i, shard: registry.shards[i], handles: handles,
                    ring: log.ring(min(i, log.producerCount - 1)),
                    connections: connections, names: names, service: service, accessLog: accessLog, spans: spans))
        }
        self.workers = made
    }

    /// The telemetry of worker `index` (0..<workers). Use it only on that worker's thread.
    public func worker(_ index: Int) -> WorkerTelemetry { workers[index] }

    /// The Prometheus 0.0.4 exposition (content type `MetricsRegistry.contentType`), process metrics included.
    public func metricsText() -> String { registry.exposition() }

    /// The `/upstreams` document for this config.
    public func upstreamsJSON() -> String {
        UpstreamsView.render(config: config.source, states: endpoints, poolCounts: connections)
    }

    /// Freezes the previous generation's contribution (see `MetricsRegistry.detachPrevious()`).
    public func detachPrevious() { registry.detachPrevious() }

    /// Writes an event line (start, reload, breaker, drain…) if `level` passes `logging.level`. Any thread.
    /// Field values are escaped and redacted like every log value.
    public func event(_ level: LogLevel, _ msg: String, _ fields: [(String, String)] = []) {
        let severity = LogSeverity(name: level.rawValue) ?? .info
        guard self.level.admits(severity) else { return }
        let line = LogLine(capacity: 256)
        line.begin(timestampMs: RFC3339.nowMs(), level: severity, service: service, message: msg)
        for (key, value) in fields { line.field(dynamicKey: key, value) }
        line.end()
        log.submitShared(line.bytes)
    }

    /// Counts a breaker transition and logs it (`warn` when it opens, else `info`). Any thread.
    public func breakerTransition(upstream: Int, endpoint: Int, to state: BreakerState) {
        guard upstream >= 0, upstream < config.upstreamNames.count else { return }
        let endpoints = config.upstream(at: upstream).endpoints
        guard endpoint >= 0, endpoint < endpoints.count else { return }
        let name = config.upstreamNames[upstream]
        let address = endpoints[endpoint].description
        let to = UpstreamsView.label(state)
        counters.add(ProcessCounters.key(GatewayMetrics.breakerTransitions.name, name, address, to))
        event(
            state == .open ? .warn : .info, "circuit breaker transition",
            [("upstream", name), ("endpoint", address), ("to", to)])
    }

    /// Counts a reload attempt; on success also records the new generation. Any thread.
    public func configReloaded(success: Bool, generation: Int) {
        counters.add(ProcessCounters.key(GatewayMetrics.configReloads.name, success ? "success" : "failure"))
        if success { counters.set(ProcessCounters.key(GatewayMetrics.configGeneration.name), Double(generation)) }
    }

    /// Counts a load of `listener`'s certificate files and, on success, records the expiry of each served pair
    /// (`pairs`: cert file and notAfter). Any thread.
    public func certificatesLoaded(listener: String, success: Bool, pairs: [(file: String, notAfter: Int64)]) {
        counters.add(
            ProcessCounters.key(GatewayMetrics.tlsCertificateReloads.name, listener, success ? "success" : "failure"))
        for pair in pairs {
            counters.set(
                ProcessCounters.key(GatewayMetrics.tlsCertificateExpiry.name, listener, pair.file),
                Double(pair.notAfter))
        }
    }

    /// Counts a failed JWKS fetch for `provider`. Any thread.
    public func jwksRefreshFailed(provider: String) {
        counters.add(ProcessCounters.key(GatewayMetrics.jwksRefreshFailures.name, provider))
    }

    /// Records the key set's age now (0 right after a fetch); scrapes add the time elapsed since. Any thread.
    public func setJWKSAge(provider: String, seconds: Double) {
        counters.set(ProcessCounters.key(GatewayMetrics.jwksAge.name, provider), seconds)
        counters.set(
            ProcessCounters.key(GatewayMetrics.jwksAge.name, provider, "at"), ProcessCounters.monotonicSeconds())
    }

    /// Sends the queued spans, writes what is queued and stops the exporter and log writer threads (shared by
    /// every generation: call once, at exit).
    public func stop() {
        exporter?.stop()
        log.stop()
    }

    /// The previous generation's exporter when the endpoint and worker count are unchanged, else a new one (the
    /// previous one is retired: it sends what it holds in the background). Failures are logged as `warn` events,
    /// at most one line per `failureLogIntervalMs` with the count of the ones not logged.
    private static func exporter(
        for config: CompiledConfig, workers: Int, previous: Telemetry?, log: LogWriter, level: LogSeverity,
        options: OTLPExporter.Options
    ) -> OTLPExporter? {
        guard let endpoint = config.source.tracing.otlpEndpoint else {
            previous?.exporter?.retire()
            return nil
        }
        if let kept = previous?.exporter, kept.endpoint == endpoint, kept.caFile == config.source.tracing.caFile,
            kept.producerCount == workers
        {
            return kept
        }
        previous?.exporter?.retire()
        let service = config.source.tracing.serviceName
        // host:port only: the URL may carry credentials, which never reach the logs (SPEC §5).
        let collector = (try? HTTPTarget.parse(endpoint).get())?.hostHeader ?? "(invalid URL)"
        return OTLPExporter(
            endpoint: endpoint, caFile: config.source.tracing.caFile, producers: workers, options: options
        ) { error, unreported in
            guard level.admits(.warn) else { return }
            let line = LogLine(capacity: 256)
            line.begin(timestampMs: RFC3339.nowMs(), level: .warn, service: service, message: "otlp export failed")
            line.field("collector", collector)
            line.field("error", error.description)
            line.field("unreported_failures", Int(clamping: unreported))
            line.end()
            log.submitShared(line.bytes)
        }
    }
}
