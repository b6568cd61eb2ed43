import MeshConfig
import MeshMetrics
import MeshProxy
import MeshResilience

/// The typed handles of one config generation, laid out in flat arrays indexed the way the exchange counts
/// (listener index, route index within the listener, upstream index, endpoint index), so recording is a few
/// array reads and no hashing.
struct MetricHandles: Sendable {
    /// Per listener: index of its first route in the per-route arrays.
    let routeBase: [Int]
    /// Per listener: index of its "no route" slot followed by its routes in `requests`/`durations`.
    let slotBase: [Int]
    /// `[(slot) * methods + method]`.
    let requests: [StatusCounterHandle]
    /// `[slot]`.
    let durations: [HistogramHandle]
    /// `[slot]`: gRPC calls by grpc-status.
    let grpc: [StatusCounterHandle]
    /// `[route]` (global route index, see `routeBase`).
    let retries: [CounterHandle]
    /// `[route * FallbackOn.allCases.count + reason]`.
    let fallbacks: [CounterHandle]
    /// `[route]`.
    let rateLimited: [CounterHandle]
    let rateLimitStoreErrors: CounterHandle
    /// Per upstream: index of its first endpoint in `attempts`.
    let endpointBase: [Int]
    /// `[(endpoint) * outcomes + outcome]`.
    let attempts: [CounterHandle]
    /// `[upstream]`.
    let attemptDurations: [HistogramHandle]
    /// Provider name → handles indexed like `GatewayMetrics.jwtResults`.
    let jwt: [String: [CounterHandle]]
    /// `[listener]`.
    let connections: [GaugeHandle]
    /// `[listener * 2 + (0 success, 1 failure)]`, nil for a plaintext listener.
    let tlsHandshakes: [CounterHandle?]
    /// `[upstream * 2 + (0 active, 1 idle)]`.
    let upstreamConnections: [GaugeHandle]

    /// In `outcomeIndex` order (the enum's own).
    static let outcomes: [AttemptOutcome] = AttemptOutcome.allCases
    static let jwtResultIndex: [String: Int] = Dictionary(
        uniqueKeysWithValues: GatewayMetrics.jwtResults.enumerated().map { ($1, $0) })

    @inline(__always)
    static func outcomeIndex(_ outcome: AttemptOutcome) -> Int {
        switch outcome {
        case .success: 0
        case .connectFailure: 1
        case .reset: 2
        case .timeout: 3
        case .http5xx: 4
        case .grpcUnavailable: 5
        }
    }

    @inline(__always)
    static func reasonIndex(_ reason: FallbackOn) -> Int {
        switch reason {
        case .circuitOpen: 0
        case .timeout: 1
        case .connectFailure: 2
        case .fiveXX: 3
        }
    }

    static let reasons: [FallbackOn] = [.circuitOpen, .timeout, .connectFailure, .fiveXX]

    /// Registers the per-config series of every shard-recorded family.
    init(config: CompiledConfig, builder b: inout MetricsRegistryBuilder) throws(MetricsError) {
        let routes = try Self.routeSeries(config, &b)
        let upstreams = try Self.upstreamSeries(config, &b)
        routeBase = routes.routeBase
        slotBase = routes.slotBase
        requests = routes.requests
        durations = routes.durations
        grpc = routes.grpc
        retries = routes.retries
        fallbacks = routes.fallbacks
        rateLimited = routes.rateLimited
        rateLimitStoreErrors = try b.counter(GatewayMetrics.rateLimitStoreErrors, labels: [])
        connections = routes.connections
        tlsHandshakes = routes.tlsHandshakes
        endpointBase = upstreams.endpointBase
        attempts = upstreams.attempts
        attemptDurations = upstreams.attemptDurations
        upstreamConnections = upstreams.upstreamConnections
        jwt = try Self.jwtSeries(config, &b)
    }

    private struct RouteSeries {
        var routeBase: [Int] = [], slotBase: [Int] = []
        var requests: [StatusCounterHandle] = [], durations: [HistogramHandle] = [], grpc: [StatusCounterHandle] = []
        var retries: [CounterHandle] = [], fallbacks: [CounterHandle] = [], rateLimited: [CounterHandle] = []
        var connections: [GaugeHandle] = []
        var tlsHandshakes: [CounterHandle?] = []
    }

    private static func routeSeries(_ config: CompiledConfig, _ b: inout MetricsRegistryBuilder) throws(MetricsError)
        -> RouteSeries
    {
        typealias M = GatewayMetrics
        var r = RouteSeries()
        for listener in config.listeners {
            let name = listener.config.name
            r.routeBase.append(r.retries.count)
            r.slotBase.append(r.durations.count)
            r.connections.append(try b.gauge(M.connectionsActive, labels: [name]))
            for result in ["success", "failure"] {
                r.tlsHandshakes.append(
                    listener.config.tls == nil ? nil : try b.counter(M.tlsHandshakes, labels: [name, result]))
            }
            // Slot 0 of each listener is "no route matched" (route label "").
            for route in [""] + listener.routes.map(\.config.name) {
                for method in M.methods {
                    r.requests.append(try b.statusCounter(M.requests, labels: [name, route, method]))
                }
                r.durations.append(try b.histogram(M.requestDuration, labels: [name, route]))
                r.grpc.append(try b.statusCounter(M.grpcRequests, labels: [name, route]))
            }
            for route in listener.routes.map(\.config.name) {
                r.retries.append(try b.counter(M.retries, labels: [route]))
                r.rateLimited.append(try b.counter(M.rateLimited, labels: [route]))
                for reason in Self.reasons {
                    r.fallbacks.append(try b.counter(M.fallbacks, labels: [route, reason.rawValue]))
                }
            }
        }
        return r
    }

    private struct UpstreamSeries {
        var endpointBase: [Int] = [], attempts: [CounterHandle] = [], attemptDurations: [HistogramHandle] = []
        var upstreamConnections: [GaugeHandle] = []
    }

    private static func upstreamSeries(_ config: CompiledConfig, _ b: inout MetricsRegistryBuilder)
        throws(MetricsError) -> UpstreamSeries
    {
        typealias M = GatewayMetrics
        var s = UpstreamSeries()
        for (u, name) in config.upstreamNames.enumerated() {
            s.endpointBase.append(s.attempts.count / Self.outcomes.count)
            for endpoint in config.upstream(at: u).endpoints {
                for outcome in Self.outcomes {
                    s.attempts.append(
                        try b.counter(M.upstreamRequests, labels: [name, endpoint.description, outcome.label]))
                }
            }
            s.attemptDurations.append(try b.histogram(M.upstreamDuration, labels: [name]))
            s.upstreamConnections.append(try b.gauge(M.upstreamConnections, labels: [name, "active"]))
            s.upstreamConnections.append(try b.gauge(M.upstreamConnections, labels: [name, "idle"]))
        }
        return s
    }

    private static func jwtSeries(_ config: CompiledConfig, _ b: inout MetricsRegistryBuilder) throws(MetricsError)
        -> [String: [CounterHandle]]
    {
        var jwt: [String: [CounterHandle]] = [:]
        for provider in config.source.jwtProviders.keys.sorted() {
            var row: [CounterHandle] = []
            for result in GatewayMetrics.jwtResults {
                row.append(try b.counter(GatewayMetrics.jwtValidations, labels: [provider, result]))
            }
            jwt[provider] = row
        }
        return jwt
    }
}
