import MeshHTTP1
import MeshLog
import MeshOTLP

extension WorkerTelemetry {
    /// Formats SPEC §5's request line into the reused buffer and hands it to the worker's ring.
    ///
    /// `ts` is when the line is written (the response's end); `route`, `upstream` and `endpoint` are null when
    /// none applied; `error` is present only when the gateway produced the status itself. The path is cut at `?`
    /// and every value is redacted (see `LogEscaping`).
    func writeAccessLine(_ r: borrowing RequestRecord) {
        line.begin(timestampMs: RFC3339.nowMs(), level: .info, service: service, message: "request")
        line.field("trace_id", hex: r.trace.high, r.trace.low)
        line.field("span_id", hex: r.span.value)
        line.field("request_id", r.requestID)
        line.field("listener", utf8: names.listeners[r.listener])
        if r.route >= 0, r.route < names.routes[r.listener].count {
            line.field("route", utf8: names.routes[r.listener][r.route])
        } else {
            line.fieldNull("route")
        }
        line.field("method", code: r.method.label)
        line.field("protocol", code: r.protocolName)
        line.field("path", path: r.path ?? "")
        line.field("status", r.status)
        line.field("duration_ms", milli: Double(r.endNs - r.startNs) / 1e6)
        if r.upstream >= 0, r.upstream < names.upstreams.count {
            line.field("upstream", utf8: names.upstreams[r.upstream])
            if r.endpoint >= 0, r.endpoint < names.endpoints[r.upstream].count {
                line.field("endpoint", utf8: names.endpoints[r.upstream][r.endpoint])
            } else {
                line.fieldNull("endpoint")
            }
        } else {
            line.fieldNull("upstream")
            line.fieldNull("endpoint")
        }
        line.field("attempts", r.attempts)
        line.field("bytes_in", r.bytesIn)
        line.field("bytes_out", r.bytesOut)
        line.field("client", r.client)
        if let version = r.tlsVersion {
            line.field("tls_version", version)
            if let identity = r.peerIdentity {
                line.field("peer_identity", identity)
            } else {
                line.fieldNull("peer_identity")
            }
        }
        if r.grpcStatus >= 0 { line.field("grpc_status", r.grpcStatus) }
        if let error = r.error { line.field("error", code: error.code) }
        if r.rateLimited { line.field("rate_limited", true) }
        line.end()
        if line.count > LogWriter.maxLineBytes {
            ring.countDrop()
            return
        }
        _ = line.withBytes { ring.push($0) }
    }
}
