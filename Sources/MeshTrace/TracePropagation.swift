/// What the gateway forwards upstream for one request (SPEC §5), decided from the incoming field lines.
public struct OutgoingTrace: Sendable, Equatable {
    /// The `traceparent` to send (version 00, the gateway's own span as parent-id).
    public let traceParent: TraceParent
    /// True when the incoming trace was continued; false when a new trace was started.
    public let continued: Bool
    /// Bytes of the `tracestate` to send, at the start of the caller's buffer; nil = send none.
    public let traceStateLength: Int?
}

/// The trace stage's pure decision: continue or restart the trace, and which `tracestate` survives.
public enum TracePropagation {
    /// Decides the outgoing trace context.
    ///
    /// - A single valid `traceparent` line is continued: same trace-id, `newSpan` as parent-id, its sampled (and
    ///   Level 2 random) flag kept, unknown flags dropped; `tracestate` lines are combined (`TraceState.combine`).
    /// - Otherwise (absent, invalid, or several lines) a new trace starts with `newTrace`, sampled per
    ///   `SampleDecision.sampled(ratio:random:)`, and any incoming `tracestate` is dropped.
    /// - Parameters:
    ///   - traceparentLines: values of every `traceparent` field line (names matched case-insensitively).
    ///   - tracestateLines: values of every `tracestate` field line, in order.
    ///   - traceStateOut: where the combined `tracestate` is written; the sum of the line lengths + one byte per
    ///     line suffices.
    public static func decide<Parents: Sequence, States: Sequence>(
        traceparentLines: Parents, tracestateLines: States, newSpan: SpanID, newTrace: TraceID,
        sampleRatio: Double, sampleRandom: UInt64, traceStateOut: UnsafeMutableRawBufferPointer
    ) -> OutgoingTrace
    where Parents.Element == UnsafeRawBufferPointer, States.Element == UnsafeRawBufferPointer {
        guard let incoming = TraceParent.parse(lines: traceparentLines) else {
            let flags: TraceFlags = SampleDecision.sampled(ratio: sampleRatio, random: sampleRandom) ? .sampled : []
            let parent = TraceParent(traceID: newTrace, parentID: newSpan, flags: flags)
            return OutgoingTrace(traceParent: parent, continued: false, traceStateLength: nil)
        }
        let length: Int?
        switch TraceState.combine(tracestateLines, into: traceStateOut) {
        case .value(let written): length = written
        case .absent, .invalid, .tooLong: length = nil
        }
        return OutgoingTrace(traceParent: incoming.child(newSpan: newSpan), continued: true, traceStateLength: length)
    }
}
