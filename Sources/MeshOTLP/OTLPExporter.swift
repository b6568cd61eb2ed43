import CLinux
import Glibc
import MeshControl
import MeshCrypto
import MeshTLS
import Synchronization

/// Sends sampled requests to an OTLP/HTTP collector as JSON spans, in batches, from its own thread (SPEC §5).
///
/// Workers never wait: each has its own `OTLPSpanQueue` (the MeshLog ring pattern: single producer, no lock); a
/// full queue drops and counts the span. The exporter thread takes up to `maxBatch` spans at a time and POSTs them
/// when the batch is full or its oldest span has waited `flushIntervalMs`; while a POST is in flight (at most
/// `timeoutMs`) spans accumulate in the queues, so a slow or absent collector turns into counted drops, never into
/// back-pressure. A failed batch is not retried: it is counted in `exportFailures` (and logged through
/// `onFailure`, at most once per `failureLogIntervalMs`) and its spans are lost.
///
/// An `https://` collector is verified against `caFile` (PEM), else the system store, and the endpoint's host
/// (SPEC §9). The TLS context is built once, on the exporter thread, at the first https batch; a context that
/// cannot be built (CA file missing or not PEM) fails that batch like any export failure and is tried again
/// with the next one. A collector whose certificate does not verify is an export failure too.
///
/// Lifecycle: `init` starts the thread; `stop()` sends what is queued (one attempt per batch, giving up on the
/// first failure or after about `2 × timeoutMs`) and joins it; `retire()` does the same without waiting (a reload
/// that replaced this exporter).
/// Spans pushed after either are dropped and counted.
public final class OTLPExporter: @unchecked Sendable {
    /// Tuning; the defaults are the product's (8192 spans, 512 per batch, 1 s, 2 s timeout).
    public struct Options: Sendable {
        /// Spans queued at most, over all producers (each gets an equal power-of-two share, at least 16).
        public var queueCapacity = 8192
        /// Most spans per POST (SERVER spans; their attempt spans ride along).
        public var maxBatch = 512
        /// Longest a queued span waits for its batch to fill.
        public var flushIntervalMs = 1000
        /// Bound on one POST: connect, send, response.
        public var timeoutMs = 2000
        /// How often the idle thread looks at the queues.
        public var idleMs = 20
        /// At most one failure log line per this interval.
        public var failureLogIntervalMs = 10_000
        /// The product defaults.
        public init() {}
    }

    /// Called on the exporter thread for a failed batch (rate-limited): the error, and how many failures were
    /// not reported since the previous call.
    public typealias FailureHandler = @Sendable (OTLPExportError, UInt64) -> Void

    /// `tracing.otlp_endpoint`.
    public let endpoint: String
    /// `tracing.ca_file`: the CAs an `https://` collector must chain to; nil means the system store.
    public let caFile: String?
    private let target: HTTPTarget?
    private let options: Options
    private let queues: [OTLPSpanQueue]
    private let onFailure: FailureHandler
    private let stopping = Atomic<Bool>(false)
    private let ended = Atomic<Bool>(false)
    private let failures = Atomic<UInt64>(0)
    private let exported = Atomic<UInt64>(0)
    private let droppedAtStop = Atomic<UInt64>(0)
    private var thread = pthread_t()
    /// Failure-log rate limiting, touched by the exporter thread only.
    private var lastReportMs: Int64 = .min
    private var unreported: UInt64 = 0
    /// The https collector's TLS context, built on first use; touched by the exporter thread only.
    private var tls: TLSClientContext?

    /// Starts the exporter thread for `producers` worker queues, POSTing to `endpoint` (`http[s]://host:port/path`;
    /// an endpoint that does not parse makes every batch fail). `caFile` applies to an `https://` endpoint.
    public init(
        endpoint: String, caFile: String? = nil, producers: Int, options: Options = Options(),
        onFailure: @escaping FailureHandler
    ) {
        self.endpoint = endpoint
        self.caFile = caFile
        if case .success(let parsed) = HTTPTarget.parse(endpoint) { target = parsed } else { target = nil }
        self.options = options
        let count = max(1, producers)
        let share = max(16, options.queueCapacity / count)
        queues = (0..<count).map { _ in OTLPSpanQueue(capacity: share) }
        self.onFailure = onFailure
        let unmanaged = Unmanaged.passRetained(self)
        let rc = pthread_create(
            &thread, nil,
            { arg in
                let this = Unmanaged<OTLPExporter>.fromOpaque(arg!).takeRetainedValue()
                clinux_set_thread_name("meshgate-otlp")
                this.run()
                return nil
            }, unmanaged.toOpaque())
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    /// The queue of worker `index`, clamped to the producers there are: push to it only from that worker's thread.
    public func queue(_ index: Int) -> OTLPSpanQueue { queues[min(max(0, index), queues.count - 1)] }

    /// Number of worker queues.
    public var producerCount: Int { queues.count }

    /// Spans dropped so far: full queues, pushes after stop, spans left when a final batch failed.
    public var droppedSpans: UInt64 {
        queues.reduce(droppedAtStop.load(ordering: .relaxed)) { $0 &+ $1.droppedSpans }
    }

    /// Batches that failed (connect, timeout, non-2xx…).
    public var exportFailures: UInt64 { failures.load(ordering: .relaxed) }

    /// SERVER spans the collector accepted (2xx).
    public var exportedSpans: UInt64 { exported.load(ordering: .relaxed) }

    /// Sends what is queued and joins the thread; idempotent, any thread. Takes at most about `4 × timeoutMs`: a
    /// POST in flight, `2 × timeoutMs` of flushing, then the POST that crossed that limit.
    public func stop() {
        guard !ended.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for queue in queues { queue.close() }
        stopping.store(true, ordering: .releasing)
        pthread_join(thread, nil)
    }

    /// Like `stop()` but returns at once; the thread finishes on its own. Idempotent.
    public func retire() {
        guard !ended.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for queue in queues { queue.close() }
        stopping.store(true, ordering: .releasing)
        pthread_detach(thread)
    }

    // MARK: - Exporter thread

    private func run() {
        var batch: [OTLPSpanQueue.Entry] = []
        batch.reserveCapacity(options.maxBatch)
        var oldestMs: Int64 = 0
        var next = 0
        var giveUpMs = Int64.max
        while true {
            let finishing = stopping.load(ordering: .acquiring)
            if finishing, giveUpMs == .max { giveUpMs = Self.nowMs() + 2 * Int64(options.timeoutMs) }
            let wasEmpty = batch.isEmpty
            // Start at a different queue each round so that one busy worker cannot starve the others.
            for k in 0..<queues.count where batch.count < options.maxBatch {
                _ = queues[(next + k) % queues.count].pop(into: &batch, max: options.maxBatch - batch.count)
            }
            next = (next + 1) % queues.count
            let now = Self.nowMs()
            if wasEmpty, !batch.isEmpty { oldestMs = now }
            let due =
                batch.count >= options.maxBatch
                || (!batch.isEmpty && (finishing || now - oldestMs >= Int64(options.flushIntervalMs)))
            if due {
                let sent = export(batch)
                batch.removeAll(keepingCapacity: true)
                // Shutdown is bounded: one failure, or about two timeouts of a slow collector, and the rest goes.
                if finishing, !sent || Self.nowMs() >= giveUpMs { return dropRemaining() }
                continue
            }
            if finishing, batch.isEmpty { return }
            _ = poll(nil, 0, Int32(max(1, options.idleMs)))
        }
    }

    /// Encodes and POSTs one batch; counts the outcome. Returns whether the collector accepted it.
    private func export(_ batch: [OTLPSpanQueue.Entry]) -> Bool {
        let encoder = OTLPEncoder(clockOffsetNs: Self.realtimeNs() - clinux_monotonic_ns(), randomSpan: Self.random)
        switch post(encoder.encode(batch)) {
        case .success:
            exported.add(UInt64(batch.count), ordering: .relaxed)
            return true
        case .failure(let error):
            failures.add(1, ordering: .relaxed)
            reportFailure(error)
            return false
        }
    }

    /// POSTs one encoded batch over http or, with the exporter's TLS context, https.
    private func post(_ body: [UInt8]) -> Result<Int, OTLPExportError> {
        guard let target else { return .failure(.resolve("tracing.otlp_endpoint is not an http(s):// URL")) }
        guard target.secure else { return OTLPPoster.post(target, body: body, timeoutMs: options.timeoutMs) }
        switch tlsContext() {
        case .success(let context):
            return OTLPPoster.post(target, body: body, timeoutMs: options.timeoutMs, tls: context)
        case .failure(let error): return .failure(error)
        }
    }

    /// The context for an https collector: `caFile` or the system store, built once and kept (never per request).
    private func tlsContext() -> Result<TLSClientContext, OTLPExportError> {
        if let tls { return .success(tls) }
        var options = TLSClientOptions()
        options.caFile = caFile
        do {
            let made = try TLSClientContext(options: options)
            tls = made
            return .success(made)
        } catch {
            // TLSLoadError already reads "<file>: <reason>".
            return .failure(.tls(caFile == nil ? "\(error)" : "tracing.ca_file \(error)"))
        }
    }

    /// Calls `onFailure` at most once per `failureLogIntervalMs` (a dead collector must not flood the log).
    private func reportFailure(_ error: OTLPExportError) {
        let now = Self.nowMs()
        if lastReportMs != .min, now - lastReportMs < Int64(options.failureLogIntervalMs) {
            unreported += 1
            return
        }
        lastReportMs = now
        onFailure(error, unreported)
        unreported = 0
    }

    /// At stop, after a failed final batch: count what is still queued as dropped rather than wait on a collector
    /// that just failed.
    private func dropRemaining() {
        var rest: [OTLPSpanQueue.Entry] = []
        for queue in queues {
            while queue.pop(into: &rest, max: 1024) > 0 {
                droppedAtStop.add(UInt64(rest.count), ordering: .relaxed)
                rest.removeAll(keepingCapacity: true)
            }
        }
    }

    private static func nowMs() -> Int64 { clinux_monotonic_ns() / 1_000_000 }

    private static func realtimeNs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// A span-id's worth of randomness from libcrypto (the project never writes its own).
    private static func random() -> UInt64 {
        var value: UInt64 = 0
        withUnsafeMutableBytes(of: &value) { SecureRandom.fill($0) }
        return value
    }
}
