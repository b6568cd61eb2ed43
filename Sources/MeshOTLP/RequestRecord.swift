import MeshHTTP1
import MeshProxy
import MeshTrace

/// One finished request as the access log and the request metrics see it. Filled by the exchange and
/// handed to `WorkerTelemetry.requestFinished` on the worker's thread; strings are only built when the
/// access log is on.
public struct RequestRecord {
    /// Index into `CompiledConfig.listeners`.
    public var listener = 0
    /// Index of the route within its listener, -1 when none matched.
    public var route = -1
    public var method: HTTPMethod = .get
    /// The request path without its query (query strings never reach the logs), nil when not captured.
    public var path: String?
    public var status = 0
    /// CLOCK_MONOTONIC nanoseconds at the first byte of the head and when the response was written.
    public var startNs: Int64 = 0
    public var endNs: Int64 = 0
    /// Index into `CompiledConfig.upstreamNames` / the upstream's endpoints; -1 when none was used.
    public var upstream = -1
    public var endpoint = -1
    public var attempts = 0
    public var bytesIn = 0
    public var bytesOut = 0
    /// Set when the gateway produced the status itself.
    public var error: GatewayError?
    /// `HTTP/1.0`, `HTTP/1.1` or `HTTP/2`: how the client spoke (SPEC §10, the access log's `protocol`).
    public var protocolName: StaticString = "HTTP/1.1"
    /// Answered 429 by a rate limit (the access log's `rate_limited`).
    public var rateLimited = false
    /// The client's address without port.
    public var client: String = ""
    /// The request id sent upstream and returned to the client (the client's when sane, else generated).
    public var requestID: String = ""
    /// On a TLS listener: "TLSv1.2" / "TLSv1.3" (SPEC §9 `tls_version`), nil otherwise.
    public var tlsVersion: String?
    /// The verified client certificate's URI (SPEC §9 `peer_identity`), nil without one.
    public var peerIdentity: String?
    /// A gRPC call's `grpc-status` (SPEC §10 `grpc_status`): the gateway's own, the upstream's Trailers-Only
    /// head or its trailers; -1 for a request that is not a gRPC call or whose status never came.
    public var grpcStatus = -1

    // MARK: - Span export (OTLP); ignored unless `WorkerTelemetry.spanExportEnabled` and `sampled`

    /// The W3C sampled flag of the outgoing `traceparent`: only sampled requests become spans.
    public var sampled = false
    /// The trace this request belongs to (continued or new).
    public var trace = TraceID(high: 0, low: 0)
    /// The gateway's span for this request: the parent-id it forwards upstream.
    public var span = SpanID(0)
    /// The incoming `traceparent`'s parent-id when the trace was continued; 0 (invalid) for a new trace.
    public var parentSpan = SpanID(0)
    /// CLOCK_REALTIME nanoseconds since the unix epoch at `startNs`; 0 lets the exporter derive it from the
    /// monotonic times (same instant, one clock read per batch instead of one per request).
    public var startUnixNs: Int64 = 0
    /// The request's `Host` without port (`server.address`), nil when not captured.
    public var host: String?
    /// The first `OTLPAttempts.capacity` upstream attempts (one CLIENT span each); `attempts` keeps the total.
    public var spanAttempts = OTLPAttempts()

    public init() {}

    public var durationSeconds: Double { Double(endNs - startNs) / 1e9 }
}
