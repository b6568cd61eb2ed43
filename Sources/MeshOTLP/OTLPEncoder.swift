import MeshHTTP1
import MeshJSON
import MeshProxy
import MeshResilience
import MeshTrace

/// Builds one OTLP/HTTP JSON `ExportTraceServiceRequest` from queued requests (runs on the exporter thread only;
/// it allocates freely).
///
/// Mapping (OTLP specification, "JSON Protobuf Encoding"): trace and span ids are lowercase hex, not base64;
/// 64-bit integers (`startTimeUnixNano`, `intValue`) are JSON strings; enums are their integer values. Each
/// request is one SERVER span (kind 2) and each stored upstream attempt one CLIENT span (kind 3) whose parent is
/// the SERVER span. Attribute names follow the OpenTelemetry HTTP semantic conventions; gateway specifics are
/// under `meshgate.`.
public struct OTLPEncoder {
    /// `SpanKind` values (opentelemetry-proto trace.proto).
    public static let kindServer = 2
    public static let kindClient = 3
    /// `Status.StatusCode` values: UNSET 0, ERROR 2 (OK, 1, is for applications to set, not instrumentation).
    public static let statusUnset = 0
    public static let statusError = 2

    /// CLOCK_REALTIME − CLOCK_MONOTONIC in nanoseconds, read once per batch: converts the records' monotonic
    /// times to unix nanoseconds.
    public var clockOffsetNs: Int64
    /// Draws a span-id for attempts that came without one.
    public var randomSpan: () -> UInt64

    /// The request body for `entries` (one `resourceSpans` per run of entries with the same service name).
    public func encode(_ entries: [OTLPSpanQueue.Entry]) -> [UInt8] {
        var w = JSONWriter()
        w.bytes.reserveCapacity(entries.count * 1200)
        w.beginObject()
        w.key("resourceSpans")
        w.beginArray()
        var i = 0
        while i < entries.count {
            let service = entries[i].names.service
            var end = i + 1
            while end < entries.count, entries[end].names.service == service { end += 1 }
            resourceSpans(&w, service: service, entries[i..<end])
            i = end
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    private func resourceSpans(_ w: inout JSONWriter, service: String, _ entries: ArraySlice<OTLPSpanQueue.Entry>) {
        w.beginObject()
        w.key("resource")
        w.beginObject()
        w.key("attributes")
        w.beginArray()
        Self.attribute(&w, "service.name", string: service)
        w.endArray()
        w.endObject()
        w.key("scopeSpans")
        w.beginArray()
        w.beginObject()
        w.key("scope")
        w.beginObject()
        w.key("name")
        w.string("meshgate")
        w.endObject()
        w.key("spans")
        w.beginArray()
        for entry in entries {
            serverSpan(&w, entry.record, entry.names)
            for a in 0..<entry.record.spanAttempts.count {
                clientSpan(&w, entry.record, entry.record.spanAttempts[a], index: a, entry.names)
            }
        }
        w.endArray()
        w.endObject()
        w.endArray()
        w.endObject()
    }

    /// Unix nanoseconds of the monotonic instant `ns` of record `r`.
    private func unixNs(_ ns: Int64, of r: borrowing RequestRecord) -> Int64 {
        r.startUnixNs != 0 ? r.startUnixNs + (ns - r.startNs) : ns + clockOffsetNs
    }

    private func serverSpan(_ w: inout JSONWriter, _ r: borrowing RequestRecord, _ names: OTLPNames) {
        let method = r.method.label.description
        let route = names.route(listener: r.listener, route: r.route)
        let parent: SpanID? = r.parentSpan.isValid ? r.parentSpan : nil
        let name = route.map { method + " " + $0.pattern } ?? method
        Self.spanHead(
            &w, trace: r.trace, span: r.span, parent: parent, name: name, kind: Self.kindServer,
            start: unixNs(r.startNs, of: r), end: unixNs(r.endNs, of: r))
        w.key("attributes")
        w.beginArray()
        Self.attribute(&w, "http.request.method", string: method)
        if let path = r.path { Self.attribute(&w, "url.path", string: path) }
        Self.attribute(&w, "http.response.status_code", int: r.status)
        if let host = r.host, !host.isEmpty { Self.attribute(&w, "server.address", string: host) }
        if !r.client.isEmpty { Self.attribute(&w, "network.peer.address", string: r.client) }
        if let route { Self.attribute(&w, "http.route", string: route.pattern) }
        Self.attribute(&w, "meshgate.attempts", int: r.attempts)
        if let listener = names.listener(r.listener) { Self.attribute(&w, "meshgate.listener", string: listener) }
        if let route { Self.attribute(&w, "meshgate.route", string: route.name) }
        if let upstream = names.upstream(r.upstream) { Self.attribute(&w, "meshgate.upstream", string: upstream) }
        if let endpoint = names.endpoint(upstream: r.upstream, r.endpoint) {
            Self.attribute(&w, "meshgate.endpoint", string: endpoint.description)
        }
        if !r.requestID.isEmpty { Self.attribute(&w, "meshgate.request_id", string: r.requestID) }
        if let error = r.error { Self.attribute(&w, "error.type", string: error.code.description) }
        w.endArray()
        // Task contract: ERROR for a 5xx or any status the gateway produced itself, else UNSET.
        let failed = r.error != nil || (500...599).contains(r.status)
        Self.status(&w, failed ? Self.statusError : Self.statusUnset, message: r.error?.code.description)
        w.endObject()
    }

    private func clientSpan(
        _ w: inout JSONWriter, _ r: borrowing RequestRecord, _ a: OTLPAttempt, index: Int, _ names: OTLPNames
    ) {
        let method = r.method.label.description
        let upstream = names.upstream(a.upstream)
        let span = a.span.isValid ? a.span : SpanID(random: randomSpan())
        Self.spanHead(
            &w, trace: r.trace, span: span, parent: r.span, name: upstream.map { method + " " + $0 } ?? method,
            kind: Self.kindClient, start: unixNs(a.startNs, of: r), end: unixNs(a.endNs, of: r))
        w.key("attributes")
        w.beginArray()
        Self.attribute(&w, "http.request.method", string: method)
        if let endpoint = names.endpoint(upstream: a.upstream, a.endpoint) {
            Self.attribute(&w, "server.address", string: endpoint.host)
            Self.attribute(&w, "server.port", int: Int(endpoint.port))
        }
        if a.status > 0 { Self.attribute(&w, "http.response.status_code", int: a.status) }
        // Semantic conventions: the ordinal of a resent request, present on retries only.
        if index > 0 { Self.attribute(&w, "http.request.resend_count", int: index) }
        if let upstream { Self.attribute(&w, "meshgate.upstream", string: upstream) }
        Self.attribute(&w, "meshgate.outcome", string: a.outcome.label)
        w.endArray()
        let failed = a.outcome != .success
        Self.status(&w, failed ? Self.statusError : Self.statusUnset, message: failed ? a.outcome.label : nil)
        w.endObject()
    }

    // MARK: - Pieces

    /// Opens a span object and writes its ids, name, kind and times (the caller adds attributes and status).
    private static func spanHead(
        _ w: inout JSONWriter, trace: TraceID, span: SpanID, parent: SpanID?, name: String, kind: Int, start: Int64,
        end: Int64
    ) {
        w.beginObject()
        w.key("traceId")
        w.string(trace.hex)
        w.key("spanId")
        w.string(span.hex)
        if let parent {
            w.key("parentSpanId")
            w.string(parent.hex)
        }
        w.key("name")
        w.string(name)
        w.key("kind")
        w.number(kind)
        w.key("startTimeUnixNano")
        w.string(String(max(0, start)))
        w.key("endTimeUnixNano")
        w.string(String(max(0, max(start, end))))
    }

    private static func status(_ w: inout JSONWriter, _ code: Int, message: String?) {
        w.key("status")
        w.beginObject()
        if let message {
            w.key("message")
            w.string(message)
        }
        w.key("code")
        w.number(code)
        w.endObject()
    }

    /// `{"key":…,"value":{"stringValue":…}}`.
    public static func attribute(_ w: inout JSONWriter, _ key: String, string value: String) {
        w.beginObject()
        w.key("key")
        w.string(key)
        w.key("value")
        w.beginObject()
        w.key("stringValue")
        w.string(value)
        w.endObject()
        w.endObject()
    }

    /// `{"key":…,"value":{"intValue":"…"}}`: int64 travels as a JSON string in OTLP/JSON.
    public static func attribute(_ w: inout JSONWriter, _ key: String, int value: Int) {
        w.beginObject()
        w.key("key")
        w.string(key)
        w.key("value")
        w.beginObject()
        w.key("intValue")
        w.string(String(value))
        w.endObject()
        w.endObject()
    }
}
