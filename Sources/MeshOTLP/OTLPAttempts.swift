import MeshResilience
import MeshTrace

/// One upstream attempt of a request, exported as a CLIENT span under the request's SERVER span.
///
/// Plain values only: the exchange fills it on the worker's thread without allocating.
public struct OTLPAttempt: Sendable {
    /// Index into `CompiledConfig.upstreamNames`.
    public var upstream: Int
    /// Index into that upstream's endpoints.
    public var endpoint: Int
    /// CLOCK_MONOTONIC nanoseconds when the attempt started (connect or pooled connection taken) and ended.
    public var startNs: Int64
    public var endNs: Int64
    /// The upstream's response status, 0 when none arrived (connect failure, reset, timeout).
    public var status: Int
    /// How the attempt ended (the same value the metrics count).
    public var outcome: AttemptOutcome
    /// The attempt's span-id; 0 (invalid) lets the exporter draw a random one on its own thread.
    public var span: SpanID

    /// An attempt; `span` defaults to "let the exporter choose".
    public init(
        upstream: Int, endpoint: Int, startNs: Int64, endNs: Int64, status: Int, outcome: AttemptOutcome,
        span: SpanID = SpanID(0)
    ) {
        self.upstream = upstream
        self.endpoint = endpoint
        self.startNs = startNs
        self.endNs = endNs
        self.status = status
        self.outcome = outcome
        self.span = span
    }
}

/// The first `capacity` attempts of a request, stored inline (no heap allocation, copying is a memcpy).
///
/// Retries beyond `capacity` are not kept as spans; the SERVER span's `meshgate.attempts` still has the total.
public struct OTLPAttempts: Sendable {
    /// Most attempts kept (1 try + 3 retries covers every sane retry policy).
    public static let capacity = 4
    private var storage: InlineArray<4, OTLPAttempt> = InlineArray(
        repeating: OTLPAttempt(upstream: -1, endpoint: -1, startNs: 0, endNs: 0, status: 0, outcome: .success))
    /// Attempts stored (≤ `capacity`).
    public private(set) var count = 0

    /// No attempts.
    public init() {}

    /// Stores `attempt` if there is room; returns false (and keeps nothing) when `capacity` are already stored.
    @discardableResult
    public mutating func append(_ attempt: OTLPAttempt) -> Bool {
        guard count < Self.capacity else { return false }
        storage[count] = attempt
        count += 1
        return true
    }

    /// The attempt at `index` (0..<count).
    public subscript(index: Int) -> OTLPAttempt {
        precondition(index >= 0 && index < count, "attempt index out of range")
        return storage[index]
    }

    /// Forgets every attempt (an exchange reused for the next request on the connection).
    public mutating func removeAll() { count = 0 }
}
