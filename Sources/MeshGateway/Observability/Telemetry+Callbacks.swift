import CLinux
import MeshLog
import MeshMetrics
import MeshProxy

extension Telemetry {
    /// Registers the series read at scrape time: breaker state, process-wide event counters, JWKS ages, the log
    /// writer's drops and the standard `process_*` metrics.
    static func registerCallbacks(
        _ b: inout MetricsRegistryBuilder, config: CompiledConfig, endpoints: [[EndpointState]],
        counters: ProcessCounters, log: LogWriter
    ) throws(MetricsError) {
        typealias M = GatewayMetrics
        for (u, name) in config.upstreamNames.enumerated() {
            for (e, address) in config.upstream(at: u).endpoints.enumerated() {
                let endpoint = address.description
                if u < endpoints.count, e < endpoints[u].count {
                    let state = endpoints[u][e]
                    try b.callbackGauge(M.breakerState, labels: [name, endpoint]) {
                        Double(state.breaker.state(nowMs: clinux_monotonic_coarse_ms()).metricValue)
                    }
                }
                for to in M.breakerStates {
                    let key = ProcessCounters.key(M.breakerTransitions.name, name, endpoint, to)
                    try b.callbackCounter(M.breakerTransitions, labels: [name, endpoint, to]) { counters.value(key) }
                }
            }
        }
        for provider in config.source.jwtProviders.keys.sorted() {
            let failures = ProcessCounters.key(M.jwksRefreshFailures.name, provider)
            try b.callbackCounter(M.jwksRefreshFailures, labels: [provider]) { counters.value(failures) }
            let age = ProcessCounters.key(M.jwksAge.name, provider)
            let at = ProcessCounters.key(M.jwksAge.name, provider, "at")
            try b.callbackGauge(M.jwksAge, labels: [provider]) {
                let seconds = counters.value(age, missing: .nan)
                return seconds + (ProcessCounters.monotonicSeconds() - counters.value(at))
            }
        }
        for result in ["success", "failure"] {
            let key = ProcessCounters.key(M.configReloads.name, result)
            try b.callbackCounter(M.configReloads, labels: [result]) { counters.value(key) }
        }
        let generation = ProcessCounters.key(M.configGeneration.name)
        try b.callbackGauge(M.configGeneration, labels: []) { counters.value(generation) }
        try b.callbackCounter(M.logDropped, labels: []) { Double(log.droppedLines) }
        try registerProcess(&b)
    }

    /// `process_*` from /proc, read once per scrape per series (four small files).
    static func registerProcess(_ b: inout MetricsRegistryBuilder) throws(MetricsError) {
        typealias M = GatewayMetrics
        try b.callbackCounter(M.processCPU, labels: []) { ProcessMetrics.read()?.cpuSeconds ?? .nan }
        try b.callbackGauge(M.processResident, labels: []) { ProcessMetrics.read()?.residentBytes ?? .nan }
        try b.callbackGauge(M.processOpenFDs, labels: []) { ProcessMetrics.read()?.openFDs ?? .nan }
        try b.callbackGauge(M.processStart, labels: []) { ProcessMetrics.read()?.startTimeSeconds ?? .nan }
    }
}
