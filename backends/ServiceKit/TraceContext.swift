import MeshTrace

/// The trace ids of one request's log line: the incoming `traceparent`'s trace-id (or a new one), this
/// service's own new span-id, and the caller's span as parent (W3C Trace Context, SPEC §5).
struct TraceContext {
    let traceID: String
    let spanID: String
    let parentID: String?

    init(header: String?) {
        var random = SystemRandomNumberGenerator()
        if let header, let parsed = TraceParent.parse(header) {
            traceID = parsed.traceID.hex
            parentID = parsed.parentID.hex
        } else {
            traceID = TraceID(random: (random.next(), random.next())).hex
            parentID = nil
        }
        spanID = SpanID(random: random.next()).hex
    }
}
