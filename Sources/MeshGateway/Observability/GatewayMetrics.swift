import MeshControl
import MeshHTTP1
import MeshMetrics

/// Every metric meshgate exports, declared in one place (STYLE #9, Envoy's `stats.h`): SPEC §6's names, help
/// texts, label sets and bucket lists. Call sites record through typed handles (`MetricHandles`), never by name.
///
/// Label values are configuration names (listener, route, upstream, endpoint `host:port`, provider) and closed
/// enums (method, outcome, breaker state, fallback reason, JWT result), never raw request data. A request that
/// matched no route is counted with `route=""` (an empty label value: it cannot collide with a route name,
/// which is never empty, and Prometheus treats it as "no route").
public enum GatewayMetrics {
    /// SPEC §6 request duration buckets, in seconds.
    public static let durationBuckets: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]

    /// The `method` label values, indexed by `HTTPMethod.rawValue`; anything else is `OTHER`.
    public static let methods = HTTPMethod.allCases.map { $0.label.description }

    /// `meshgate_jwt_validations_total{result}` values: `success`, every `JWTError.label`, and `other` for a label
    /// this list does not know (kept in step with MeshJWT's `JWTError.label`).
    public static let jwtResults = [
        "success", "missing", "malformed", "too_large", "bad_base64", "bad_json", "algorithm_not_allowed",
        "algorithm_none", "key_type_mismatch", "unknown_kid", "no_keys", "bad_signature", "expired", "exp_missing",
        "not_yet_valid", "issued_in_future", "issuer_mismatch", "audience_mismatch", "unknown_critical",
        "claim_missing", "claim_mismatch", "other",
    ]

    /// `meshgate_circuit_breaker_transitions_total{to}` values.
    public static let breakerStates = ["closed", "open", "half_open"]

    /// `http_requests_total{listener,route,method,code}` (code recorded as a status-counter label).
    public static let requests = CounterFamily(
        "http_requests_total", help: "Requests answered, by listener, route, method and status code.",
        labelNames: ["listener", "route", "method", "code"])
    /// `meshgate_grpc_requests_total{listener,route,grpc_status}` (issue 12, beside SPEC §10's log field): gRPC
    /// calls by the status they ended with, recorded like `code` (only statuses seen appear).
    public static let grpcRequests = CounterFamily(
        "meshgate_grpc_requests_total",
        help: "gRPC calls answered, by listener, route and grpc-status (the gateway's own, or the upstream's).",
        labelNames: ["listener", "route", "grpc_status"])
    /// `http_request_duration_seconds{listener,route}`.
    public static let requestDuration = HistogramFamily(
        "http_request_duration_seconds",
        help: "Time from the first byte of the request head to the end of the response.",
        labelNames: ["listener", "route"], buckets: durationBuckets)
    /// `meshgate_upstream_requests_total{upstream,endpoint,outcome}`, outcome from `AttemptOutcome.label`.
    public static let upstreamRequests = CounterFamily(
        "meshgate_upstream_requests_total", help: "Upstream attempts (retries included) by endpoint and outcome.",
        labelNames: ["upstream", "endpoint", "outcome"])
    /// `meshgate_upstream_request_duration_seconds{upstream}`.
    public static let upstreamDuration = HistogramFamily(
        "meshgate_upstream_request_duration_seconds", help: "Duration of upstream attempts, connect included.",
        labelNames: ["upstream"], buckets: durationBuckets)
    /// `meshgate_retries_total{route}`.
    public static let retries = CounterFamily(
        "meshgate_retries_total", help: "Retries made (attempts after the first).", labelNames: ["route"])
    /// `meshgate_fallbacks_total{route,reason}`, reason spelled as in config (`circuit-open`, `timeout`, …).
    public static let fallbacks = CounterFamily(
        "meshgate_fallbacks_total", help: "Fallback responses served, by the reason that triggered them.",
        labelNames: ["route", "reason"])
    /// `meshgate_rate_limited_total{route}` (SPEC §11): requests answered 429 by a listener's or route's limit.
    public static let rateLimited = CounterFamily(
        "meshgate_rate_limited_total", help: "Requests refused with 429 by a rate limit, by route.",
        labelNames: ["route"])
    /// `meshgate_rate_limit_store_errors_total` (SPEC §11): global-limit decisions `on_error` made.
    public static let rateLimitStoreErrors = CounterFamily(
        "meshgate_rate_limit_store_errors_total",
        help: "Global rate-limit checks decided by on_error because the Redis store failed or was too slow.",
        labelNames: [])
    /// `meshgate_circuit_breaker_state{upstream,endpoint}`, read from `EndpointState` at scrape.
    public static let breakerState = GaugeFamily(
        "meshgate_circuit_breaker_state", help: "Circuit breaker state: 0 closed, 1 open, 2 half-open.",
        labelNames: ["upstream", "endpoint"])
    /// `meshgate_circuit_breaker_transitions_total{upstream,endpoint,to}`.
    public static let breakerTransitions = CounterFamily(
        "meshgate_circuit_breaker_transitions_total", help: "Circuit breaker state changes, by the state entered.",
        labelNames: ["upstream", "endpoint", "to"])
    /// `meshgate_jwt_validations_total{provider,result}`.
    public static let jwtValidations = CounterFamily(
        "meshgate_jwt_validations_total", help: "JWT validations by provider and result.",
        labelNames: ["provider", "result"])
    /// `meshgate_jwks_age_seconds{provider}`.
    public static let jwksAge = GaugeFamily(
        "meshgate_jwks_age_seconds", help: "Seconds since the provider's key set was last fetched (NaN before).",
        labelNames: ["provider"])
    /// `meshgate_jwks_refresh_failures_total{provider}`.
    public static let jwksRefreshFailures = CounterFamily(
        "meshgate_jwks_refresh_failures_total", help: "Failed JWKS fetches.", labelNames: ["provider"])
    /// `meshgate_connections_active{listener}`.
    public static let connectionsActive = GaugeFamily(
        "meshgate_connections_active", help: "Open client connections per listener.", labelNames: ["listener"])
    /// `meshgate_tls_handshakes_total{listener,result}`, result `success|failure` (SPEC §9): every connection a
    /// TLS listener accepts counts once, garbage and timeouts included.
    public static let tlsHandshakes = CounterFamily(
        "meshgate_tls_handshakes_total", help: "TLS handshakes on client connections, by listener and result.",
        labelNames: ["listener", "result"])
    /// `meshgate_tls_certificate_reloads_total{listener,result}`: each load of a TLS listener's files (start,
    /// reload, file change); `failure` means the listener kept its previous certificates.
    public static let tlsCertificateReloads = CounterFamily(
        "meshgate_tls_certificate_reloads_total",
        help: "Loads of a TLS listener's certificate files, by result (failure: the previous ones stay).",
        labelNames: ["listener", "result"])
    /// `meshgate_tls_certificate_expiry_timestamp_seconds{listener,certificate}` (`certificate`: the cert_file).
    public static let tlsCertificateExpiry = GaugeFamily(
        "meshgate_tls_certificate_expiry_timestamp_seconds",
        help: "notAfter of each certificate a TLS listener serves, in seconds since the epoch.",
        labelNames: ["listener", "certificate"])
    /// `meshgate_upstream_connections{upstream,state}`, state `active|idle`.
    public static let upstreamConnections = GaugeFamily(
        "meshgate_upstream_connections",
        help: "Upstream connections by state (active: carrying a request, idle: pooled).",
        labelNames: ["upstream", "state"])
    /// `meshgate_config_reloads_total{result}`, result `success|failure`.
    public static let configReloads = CounterFamily(
        "meshgate_config_reloads_total", help: "Configuration reloads by result (success, failure).",
        labelNames: ["result"])
    /// `meshgate_config_generation`.
    public static let configGeneration = GaugeFamily(
        "meshgate_config_generation", help: "Generation of the running configuration (1 at start, +1 per reload).")
    /// `meshgate_log_dropped_total`: log lines dropped rather than blocking (SPEC §5).
    public static let logDropped = CounterFamily(
        "meshgate_log_dropped_total", help: "Log lines dropped because stdout could not keep up.")
    /// `meshgate_otlp_spans_dropped_total`: request spans dropped rather than blocking (SPEC §5); 0 when export
    /// is off.
    public static let otlpSpansDropped = CounterFamily(
        "meshgate_otlp_spans_dropped_total",
        help: "Request spans dropped because the OTLP export queue was full or the exporter had stopped.")
    /// `meshgate_otlp_export_failures_total`: OTLP batches the collector did not accept.
    public static let otlpExportFailures = CounterFamily(
        "meshgate_otlp_export_failures_total",
        help: "OTLP/HTTP span batches that failed (connect error, timeout, non-2xx answer).")
    /// `process_cpu_seconds_total` (Prometheus client-library convention).
    public static let processCPU = CounterFamily(
        "process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds.")
    /// `process_resident_memory_bytes`.
    public static let processResident = GaugeFamily(
        "process_resident_memory_bytes", help: "Resident memory size in bytes.")
    /// `process_open_fds`.
    public static let processOpenFDs = GaugeFamily("process_open_fds", help: "Number of open file descriptors.")
    /// `process_start_time_seconds`.
    public static let processStart = GaugeFamily(
        "process_start_time_seconds", help: "Start time of the process since unix epoch in seconds.")

    /// `meshgate_build_info{version,commit}` = 1: which build runs (the `*_build_info` convention of Prometheus
    /// exporters), for dashboards and for telling replicas apart during a rollout.
    public static let buildInfo = GaugeFamily(
        "meshgate_build_info", help: "Always 1; the labels name the running build.", labelNames: ["version", "commit"])

    /// Every family name SPEC §6 requires (tests check the exposition against this list).
    public static let specNames = [
        requests.name, requestDuration.name, upstreamRequests.name, upstreamDuration.name, retries.name,
        fallbacks.name, breakerState.name, breakerTransitions.name, jwtValidations.name, jwksAge.name,
        jwksRefreshFailures.name, connectionsActive.name, upstreamConnections.name, configReloads.name,
        configGeneration.name, processCPU.name, processResident.name, processOpenFDs.name, processStart.name,
    ]

    /// The `method` label index of an HTTP method (`methods[index]`).
    public static func methodIndex(_ method: HTTPMethod) -> Int { min(Int(method.rawValue), methods.count - 1) }
}
