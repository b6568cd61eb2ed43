import MeshMetrics
import MeshTranscode

/// The metrics every backend exports on `GET /metrics` (STYLE #9: declared in one place):
///
/// - `http_requests_total{route,code}`: requests by route name and status.
/// - `http_request_duration_seconds{route}`: handling time, SPEC §6's bucket list.
/// - `process_cpu_seconds_total`, `process_resident_memory_bytes`, `process_open_fds`,
///   `process_start_time_seconds`: read from /proc at scrape time.
///
/// Route labels are the router's route names plus `healthz`, `metrics` and `unmatched` (404/405/parse errors),
/// so a client cannot create series with raw paths. One shard: a service runs one loop thread.
final class ServiceMetrics {
    static let requests = CounterFamily(
        "http_requests_total",
        help: "Requests handled, by route and status code.",
        labelNames: ["route", "code"]
    )
    static let duration = HistogramFamily(
        "http_request_duration_seconds",
        help: "Time from complete request to response queued, by route.",
        labelNames: ["route"],
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    )
    static let unmatched = "unmatched"
    /// gRPC's server metrics, named as go-grpc-prometheus names them (issue 16); declared only by services that
    /// register gRPC methods. Codes are the canonical names (`OK`, `NOT_FOUND`, …).
    static let grpcHandled = CounterFamily(
        "grpc_server_handled_total",
        help: "gRPC calls completed, by service, method and status code.",
        labelNames: ["grpc_service", "grpc_method", "grpc_code"]
    )
    static let grpcSeconds = HistogramFamily(
        "grpc_server_handling_seconds",
        help: "Time from complete gRPC request to response queued, by service and method.",
        labelNames: ["grpc_service", "grpc_method"],
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    )
    /// The labels a call to a method nobody registered is counted under (bounded cardinality: never the raw path).
    static let unknownGRPC = GRPCKey(service: "unknown", method: "unknown")

    /// A gRPC method's label values.
    struct GRPCKey: Hashable {
        let service: String
        let method: String
    }

    let registry: MetricsRegistry
    private let shard: MetricsShard
    private let handles: [String: (StatusCounterHandle, HistogramHandle)]
    /// Per gRPC method: a counter per status code (indexed by the code's number) and the histogram.
    private let grpcHandles: [GRPCKey: ([CounterHandle], HistogramHandle)]

    /// Declares the series of `routeNames` (plus `unmatched`), of `grpcMethods` (plus `unknown`, when there are
    /// any) and the service's own `counters`; a declaration error is a programming error.
    init(routeNames: [String], grpcMethods: [GRPCKey] = [], counters: [ServiceCounter] = []) {
        var builder = MetricsRegistryBuilder()
        grpcHandles = Self.declareGRPC(grpcMethods, &builder)
        Self.declareCounters(counters, &builder)
        var handles: [String: (StatusCounterHandle, HistogramHandle)] = [:]
        for name in routeNames + [ServiceMetrics.unmatched] where handles[name] == nil {
            do {
                let counter = try builder.statusCounter(ServiceMetrics.requests, labels: [name])
                let histogram = try builder.histogram(ServiceMetrics.duration, labels: [name])
                handles[name] = (counter, histogram)
            } catch {
                preconditionFailure("metric declaration failed: \(error)")
            }
        }
        Self.declareProcessMetrics(&builder)
        registry = builder.build(shards: 1)
        shard = registry.shards[0]
        self.handles = handles
    }

    /// The standard process series as scrape-time callbacks (the same names the gateway exports, SPEC §6).
    private static func declareProcessMetrics(_ builder: inout MetricsRegistryBuilder) {
        do {
            try builder.callbackCounter(
                CounterFamily("process_cpu_seconds_total", help: "User and system CPU time, seconds."),
                labels: []
            ) { ProcessMetrics.read()?.cpuSeconds ?? 0 }
            let gauges: [(String, String, @Sendable (ProcessMetrics) -> Double)] = [
                ("process_resident_memory_bytes", "Resident set size, bytes.", { $0.residentBytes }),
                ("process_open_fds", "Open file descriptors.", { $0.openFDs }),
                ("process_start_time_seconds", "Start time, seconds since the Unix epoch.", { $0.startTimeSeconds }),
            ]
            for (name, help, value) in gauges {
                try builder.callbackGauge(GaugeFamily(name, help: help), labels: []) {
                    ProcessMetrics.read().map(value) ?? 0
                }
            }
        } catch {
            preconditionFailure("metric declaration failed: \(error)")
        }
    }

    /// Every status code of every method, so a rate over a code that has not happened yet is 0, not absent.
    private static func declareGRPC(
        _ methods: [GRPCKey],
        _ builder: inout MetricsRegistryBuilder
    ) -> [GRPCKey: ([CounterHandle], HistogramHandle)] {
        guard !methods.isEmpty else { return [:] }
        var handles: [GRPCKey: ([CounterHandle], HistogramHandle)] = [:]
        for key in methods + [unknownGRPC] where handles[key] == nil {
            do {
                let counters = try GRPCStatusCode.allCases.map { code throws(MetricsError) in
                    try builder.counter(grpcHandled, labels: [key.service, key.method, code.metricName])
                }
                handles[key] = (counters, try builder.histogram(grpcSeconds, labels: [key.service, key.method]))
            } catch {
                preconditionFailure("metric declaration failed: \(error)")
            }
        }
        return handles
    }

    private static func declareCounters(_ counters: [ServiceCounter], _ builder: inout MetricsRegistryBuilder) {
        for counter in counters {
            do {
                try builder.callbackCounter(CounterFamily(counter.name, help: counter.help), labels: []) {
                    Double(counter.value)
                }
            } catch {
                preconditionFailure("metric declaration failed: \(error)")
            }
        }
    }

    /// Records one finished gRPC call; a method not declared counts as `unknown`.
    func recordGRPC(_ key: GRPCKey, code: GRPCStatusCode, seconds: Double) {
        guard let (counters, histogram) = grpcHandles[key] ?? grpcHandles[Self.unknownGRPC] else { return }
        shard.add(counters[code.rawValue])
        shard.observe(histogram, seconds)
    }

    /// Records one finished request; an unknown route name counts as `unmatched`.
    func record(route: String, status: Int, seconds: Double) {
        guard let (counter, histogram) = handles[route] ?? handles[ServiceMetrics.unmatched] else { return }
        shard.add(counter, status: status)
        shard.observe(histogram, seconds)
    }

    /// The Prometheus text exposition (format 0.0.4).
    func exposition() -> String { registry.exposition() }
}
