import CLinux
import MeshControl
import MeshEventLoop
import MeshHTTP1
import MeshOTLP
import MeshProxy
import MeshRateLimit
import MeshResilience
import MeshTrace

/// What one request/response exchange on a client connection has done so far.
struct Exchange {
    /// The listener binding (routes, generation) the exchange was routed with; `route` and `target` belong to
    /// its generation, and so do the telemetry indexes it reports with.
    var binding: ListenerBinding?
    /// Routing, attempts, deadlines, the body cursors and every decision of the exchange (SPEC §3–§4).
    var machine = ExchangeMachine()
    /// The route the exchange was admitted on (its generation is `binding`'s).
    var route: CompiledRoute? { machine.route }
    var method: HTTPMethod = .get
    var clientVersion: HTTPVersion = .http11
    var clientKeepAlive = true
    /// Close the client connection once the response is written.
    var closeAfter = false
    /// Upstream chunked body sent to an HTTP/1.0 client as plain bytes.
    var dechunk = false
    var upgrade = false
    /// The upstream connection may carry another request after this response.
    var upstreamKeepAlive = false
    /// Where the head and the body that came with it start in the client buffer (replays rebuild from them).
    var headOffset = 0
    var bodyOffset = 0

    // MARK: Attempts

    /// The upstream the route sends to, as this worker saw it when the exchange started.
    var target: UpstreamRuntime?
    var endpointIndex = -1
    var ticket: CircuitBreaker.Ticket?
    var attemptStartNs: Int64 = 0
    /// This attempt is a retry and holds a slot of the upstream's retry budget.
    var holdsRetryBudget = false
    /// The request counts in the upstream's in-flight total (for the retry budget).
    var countedInFlight = false
    /// The provider whose key refetch the exchange waits for (`machine.state == .awaitingKeys`).
    var keyWait: ProviderRuntime?

    // MARK: Admission (SPEC §11)

    /// How far the request got through admission (a resumed request is not judged or counted twice).
    var admission = AdmissionProgress()
    /// The upstream's `max_in_flight` slot this exchange holds, released when it is reported.
    var inFlightSlot: ConcurrencyLimiter?
    /// From the request's first byte to the upstream's response head; nil when the upstream never answered
    /// (the adaptive cap learns from answered requests only).
    var headLatencyNs: Int64?

    // MARK: Telemetry

    var startNs: Int64 = 0
    var traceID = TraceID(high: 0, low: 0)
    var spanID = SpanID(0)
    /// Decides sampling of a new trace; kept so a retry rebuilds the same `traceparent`.
    var sampleRandom: UInt64 = 0
    /// The raw path (no query) for the access log, only when it is on.
    var path: String?
    /// The request has been handed to telemetry (exactly once per exchange).
    var reported = false
    /// The sampled flag of the `traceparent` sent upstream (only sampled requests become OTLP spans).
    var sampled = false
    /// The caller's span (incoming parent-id) when the trace was continued, else 0.
    var parentSpan = SpanID(0)
    /// Host without port, captured only when spans are exported (`server.address`).
    var host: String?
    /// The attempts as child spans (the first few, stored inline: no allocation).
    var attemptSpans = OTLPAttempts()
    var error: GatewayError?
    /// A gRPC call's status once known (gateway error, Trailers-Only head, or trailers at `report`).
    var grpcStatus: Int?
    /// Set once a `grpc_transcode` request was rewritten as its gRPC call (and while it is answered).
    var transcode: TranscodeState?
    var bytesIn = 0
    var bytesOut = 0
    var status = 0

    mutating func reset(startNs: Int64) {
        self = Exchange()
        self.startNs = startNs
    }
}

extension Exchange {
    /// The exchange ends (it was not reported yet): it gives back its share of the retry budget and its
    /// `max_in_flight` slot, and fills in what it knows of its record for telemetry (in place: the record is large).
    mutating func finish(into record: inout RequestRecord) {
        reported = true
        if countedInFlight {
            target?.budget.endRequest()
            countedInFlight = false
        }
        if let slot = inFlightSlot {
            inFlightSlot = nil
            slot.release(latencyNs: headLatencyNs, now: clinux_monotonic_ns())
        }
        if machine.grpc, grpcStatus == nil, let trailers = machine.response.trailers {
            grpcStatus = GRPC.status(inTrailerSection: trailers)
        }
        fill(&record)
    }

    /// Mutating though it changes nothing: the exchange is reached through a pointer, and a non-mutating method
    /// on it copied the whole exchange (measured).
    private mutating func fill(_ record: inout RequestRecord) {
        record.route = route?.index ?? -1
        record.method = method
        // 499: the client went away before an answer (nginx's convention).
        record.status = status == 0 ? 499 : status
        record.startNs = startNs
        record.endNs = clinux_monotonic_ns()
        record.upstream = endpointIndex >= 0 ? target?.index ?? -1 : -1
        record.endpoint = endpointIndex
        record.attempts = machine.attempts
        record.bytesIn = bytesIn
        record.bytesOut = bytesOut
        record.error = error
        record.rateLimited = error == .rateLimited
        record.sampled = sampled
        record.trace = traceID
        record.span = spanID
        record.parentSpan = parentSpan
        record.host = host
        record.path = path
        record.spanAttempts = attemptSpans
        if machine.grpc { record.grpcStatus = grpcStatus ?? -1 }
    }
}

// MARK: - Attempt bookkeeping

extension Exchange {
    /// Chooses the attempt's endpoint of `target` (avoiding the one that just failed) and takes its breaker's
    /// admission; false when no endpoint can take the attempt.
    mutating func pickEndpoint(_ target: UpstreamRuntime, nowMs: Int64, random: UInt64) -> Bool {
        let avoid = machine.attempts > 0 ? endpointIndex : nil
        guard let index = target.pick(avoiding: avoid, nowMs: nowMs, random: random) else { return false }
        let admission = target.states[index].breaker.admit(nowMs: nowMs)
        if let transition = admission.transition {
            binding?.generation.processTelemetry.breakerTransition(upstream: target.index, endpoint: index, to: transition.to)
        }
        // Half-open with its probes taken: no attempt now.
        guard let ticket = admission.ticket else { return false }
        self.ticket = ticket
        endpointIndex = index
        return true
    }

    /// Books the attempt's outcome with the endpoint's breaker and telemetry, and frees its retry slot.
    mutating func recordAttempt(_ outcome: AttemptOutcome, status: Int, nowMs: Int64) {
        guard endpointIndex >= 0, let target, let generation = binding?.generation else { return }
        let i = endpointIndex
        if let ticket {
            self.ticket = nil
            if let transition = target.states[i].breaker.record(ticket, success: outcome == .success, nowMs: nowMs) {
                generation.processTelemetry.breakerTransition(upstream: target.index, endpoint: i, to: transition.to)
            }
        }
        let endNs = clinux_monotonic_ns()
        let telemetry = generation.telemetry
        telemetry.attemptFinished(
            upstream: target.index, endpoint: i, outcome: outcome, durationSeconds: Double(endNs - attemptStartNs) / 1e9)
        if telemetry.spanExportEnabled && sampled {
            _ = attemptSpans.append(
                OTLPAttempt(
                    upstream: target.index, endpoint: i, startNs: attemptStartNs, endNs: endNs, status: status,
                    outcome: outcome))
        }
        releaseRetrySlot()
    }

    /// Gives up the attempt without judging the endpoint (the client, not the upstream, ended it).
    mutating func abandonAttempt() {
        if let ticket, endpointIndex >= 0 { target?.states[endpointIndex].breaker.abandon(ticket) }
        ticket = nil
        releaseRetrySlot()
    }

    private mutating func releaseRetrySlot() {
        guard holdsRetryBudget else { return }
        target?.budget.endRetry()
        holdsRetryBudget = false
    }
}

// MARK: - Identity

extension Exchange {
    /// What the exchange takes from a request head before it is judged: over HTTP/2 a gRPC call and its
    /// `grpc-timeout` as a deadline within the route's (SPEC §10), new trace and span ids, whether it may become a
    /// tunnel, and the path and host when telemetry exports them.
    mutating func identify(
        _ view: RequestView, overHTTP2: Bool, random: inout FastRandom, now: Int64, keepPath: Bool, keepHost: Bool
    ) {
        if overHTTP2, let type = view.firstValue(named: GRPC.contentTypeName), GRPC.isCall(contentType: type) {
            machine.grpcCall(timeoutMs: view.firstValue(named: GRPC.timeoutName).flatMap(GRPC.timeoutMs), now: now)
        }
        traceID = TraceID(high: random.nextNonZero(), low: random.next())
        spanID = SpanID(random.nextNonZero())
        sampleRandom = random.next()
        if keepPath { path = String(decoding: view.rawPath, as: UTF8.self) }
        if keepHost { host = String(decoding: Bytes.hostWithoutPort(view.authority), as: UTF8.self) }
        upgrade = TrustBoundary.allowsTunnel(view)
    }
}

// MARK: - Trace context

extension Exchange {
    /// W3C trace context (SPEC §5): continues a valid incoming trace with our span, else starts one, and records
    /// the trace id, sampled flag and parent span the upstream head carries. A retry decides the same again
    /// (`sampleRandom` is kept).
    mutating func propagateTrace(
        _ view: RequestView, sampleRatio: Double, traceStateOut: UnsafeMutableRawBufferPointer
    ) -> OutgoingTrace {
        // Plain arrays, empty (no allocation) unless the client sent trace fields: the lazy filter-map chains
        // this replaced cost two closure contexts per request.
        var parents: [UnsafeRawBufferPointer] = []
        var states: [UnsafeRawBufferPointer] = []
        for i in 0..<view.head.headerCount {
            let known = view.headers[i].known
            if known == .traceparent {
                parents.append(view.value(i))
            } else if known == .tracestate {
                states.append(view.value(i))
            }
        }
        let trace = TracePropagation.decide(
            traceparentLines: parents, tracestateLines: states, newSpan: spanID, newTrace: traceID,
            sampleRatio: sampleRatio, sampleRandom: sampleRandom, traceStateOut: traceStateOut)
        traceID = trace.traceParent.traceID
        sampled = trace.traceParent.sampled
        if trace.continued, let incoming = parents.first {
            parentSpan = TraceParent.parse(incoming)?.parentID ?? SpanID(0)
        }
        return trace
    }
}

// MARK: - Storage lent by the worker

/// What a client connection holds only while a request is in progress: the exchange and the bytes it
/// rebuilds upstream heads from. Idle keep-alive connections hold none (issue 17: an idle connection keeps
/// only what reading its next request needs); workers lend these from `ExchangeStates`.
///
/// Each part lives at a fixed address for the state's whole life, so the connection reaches it through a plain
/// pointer (addressors: no copy, no coroutine, no reference counting per field access — the hot path reads
/// and writes exchange fields a hundred times per request).
final class ExchangeState {
    let exchange = UnsafeMutablePointer<Exchange>.allocate(capacity: 1)
    /// The request id of the exchange (the client's when sane, else generated); storage reused.
    let requestID = UnsafeMutablePointer<[UInt8]>.allocate(capacity: 1)
    /// `claims_to_headers` lines of the exchange, kept so a retry sends them again.
    let claimLines = UnsafeMutablePointer<[UInt8]>.allocate(capacity: 1)
    /// What goes to the upstream next; empty (its buffers back in the pool) whenever the state is given back.
    let toUpstream = UnsafeMutablePointer<Outbound>.allocate(capacity: 1)

    init() {
        exchange.initialize(to: Exchange())
        requestID.initialize(to: [])
        requestID.pointee.reserveCapacity(128)
        claimLines.initialize(to: [])
        toUpstream.initialize(to: Outbound())
    }

    deinit {
        exchange.deinitialize(count: 1)
        exchange.deallocate()
        requestID.deinitialize(count: 1)
        requestID.deallocate()
        claimLines.deinitialize(count: 1)
        claimLines.deallocate()
        toUpstream.deinitialize(count: 1)
        toUpstream.deallocate()
    }

    /// Forgets the exchange (its route, generation and upstream references go with it), keeping storage.
    /// `blank` is a never-written exchange to copy from.
    func clear(blank: UnsafePointer<Exchange>) {
        // Destroyed, then copied in place from `blank`: building `Exchange()` anew cost ~450 instructions (each
        // field's default, the span slots one by one), and an assignment built it aside and moved it.
        exchange.deinitialize(count: 1)
        exchange.initialize(from: blank, count: 1)
        requestID.pointee.removeAll(keepingCapacity: true)
        // Usually empty (no JWT route): `removeAll(keepingCapacity:)` costs ~80 instructions even then.
        if !claimLines.pointee.isEmpty { claimLines.pointee.removeAll(keepingCapacity: true) }
    }
}

/// A worker's free list of `ExchangeState`s. It keeps at most `retained`: enough that a worker serving that
/// many concurrent requests allocates nothing per request, few enough that thousands of connections that
/// were busy once and are idle now do not keep theirs.
struct ExchangeStates {
    static let retained = 128
    private var free: [ExchangeState] = []
    /// What idle connections read: an empty exchange, never written (writes take a state of their own).
    let idle = ExchangeState()

    init() { free.reserveCapacity(Self.retained) }

    mutating func take() -> ExchangeState { free.popLast() ?? ExchangeState() }

    mutating func give(_ state: ExchangeState) {
        guard free.count < Self.retained else { return }
        state.clear(blank: idle.exchange)
        free.append(state)
    }
}
