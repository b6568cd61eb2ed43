import CLinux
import MeshControl
import MeshLog
import MeshMetrics
import MeshOTLP
import MeshProxy
import MeshSync

extension Telemetry {
    /// Registers the series read at scrape time: breaker state, process-wide event counters, JWKS ages, the log
    /// writer's and the span exporter's drops, export failures and the standard `process_*` metrics.
    static func registerCallbacks(
        _ b: inout MetricsRegistryBuilder, config: CompiledConfig, endpoints: [[EndpointState]],
        counters: ProcessCounters, log: LogWriter, exporter: OTLPExporter?
    ) throws(MetricsError) {
        typealias M = GatewayMetrics
        for (u, name) in config.upstreamNames.enumerated() {
            for (e, address) in config.upstream(at: u).endpoints.enumerated() {
                let endpoint = address.description
                if u < endpoints.count, e < endpoints[u].count {
                    let state = endpoints[u][e]
                    try b.callbackGauge(M.breakerState, labels: [name, endpoint]) {
                        Double(state.breaker.peek(nowMs: clinux_monotonic_coarse_ms()).metricValue)
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
        for listener in config.listeners {
            guard let tls = listener.config.tls else { continue }
            let name = listener.config.name
            for result in ["success", "failure"] {
                let key = ProcessCounters.key(M.tlsCertificateReloads.name, name, result)
                try b.callbackCounter(M.tlsCertificateReloads, labels: [name, result]) { counters.value(key) }
            }
            for result in ["success", "failure"] where tls.acme != nil {
                let key = ProcessCounters.key(M.acmeOrders.name, name, result)
                try b.callbackCounter(M.acmeOrders, labels: [name, result]) { counters.value(key) }
            }
            for file in Set(tls.certificates.map(\.certFile)).sorted() {
                let key = ProcessCounters.key(M.tlsCertificateExpiry.name, name, file)
                try b.callbackGauge(M.tlsCertificateExpiry, labels: [name, file]) { counters.value(key, missing: .nan) }
            }
        }
        for result in ["success", "failure"] {
            let key = ProcessCounters.key(M.configReloads.name, result)
            try b.callbackCounter(M.configReloads, labels: [result]) { counters.value(key) }
        }
        let generation = ProcessCounters.key(M.configGeneration.name)
        try b.callbackGauge(M.configGeneration, labels: []) { counters.value(generation) }
        try b.callbackCounter(M.logDropped, labels: []) { Double(log.droppedLines) }
        // Registered even with export off (reading 0) so dashboards need no special case.
        try b.callbackCounter(M.otlpSpansDropped, labels: []) { Double(exporter?.droppedSpans ?? 0) }
        try b.callbackCounter(M.otlpExportFailures, labels: []) { Double(exporter?.exportFailures ?? 0) }
        try registerProcess(&b)
    }

    /// `process_*` from /proc: one read serves the four series of a scrape (see `ProcessSampler`).
    static func registerProcess(_ b: inout MetricsRegistryBuilder) throws(MetricsError) {
        typealias M = GatewayMetrics
        let sampler = ProcessSampler()
        try b.callbackCounter(M.processCPU, labels: []) { sampler.sample()?.cpuSeconds ?? .nan }
        try b.callbackGauge(M.processResident, labels: []) { sampler.sample()?.residentBytes ?? .nan }
        try b.callbackGauge(M.processOpenFDs, labels: []) { sampler.sample()?.openFDs ?? .nan }
        try b.callbackGauge(M.processStart, labels: []) { sampler.sample()?.startTimeSeconds ?? .nan }
        let commit = String(cString: clinux_build_commit())
        try b.callbackGauge(M.buildInfo, labels: [CommandLineInterface.version, commit]) { 1 }
    }
}

/// Reads /proc at most once per 100 ms, so the four `process_*` series of one scrape cost one read.
final class ProcessSampler: Sendable {
    private let cache = Locked<(atMs: Int64, value: ProcessMetrics?)>((Int64.min, nil))

    /// The latest sample, re-read when older than 100 ms (CLOCK_MONOTONIC_COARSE).
    func sample() -> ProcessMetrics? {
        let now = clinux_monotonic_coarse_ms()
        return cache.withLock { cached in
            if cached.atMs != Int64.min, now - cached.atMs < 100 { return cached.value }
            cached = (now, ProcessMetrics.read())
            return cached.value
        }
    }
}
