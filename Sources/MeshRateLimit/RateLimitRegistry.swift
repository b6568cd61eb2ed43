import MeshSync

/// Keeps the process-wide limiter state across configuration reloads: a reload that leaves a route's
/// `rate_limit` (or an upstream's `max_in_flight`) unchanged keeps its buckets (or its in-flight count and
/// learned cap), so reloading is not a way to refill every bucket, and requests admitted under the old
/// configuration still count against the cap until they are released.
///
/// Used when a configuration generation is built (a lock per lookup, never per request); the request path
/// holds the returned objects directly.
public final class RateLimitRegistry: Sendable {
    private struct Limiters {
        var process: [String: ProcessRateLimiter] = [:]
        var concurrency: [String: ConcurrencyLimiter] = [:]
    }

    private let state = Locked(Limiters())

    public init() {}

    /// The limiter named `id` (e.g. `"listener/edge"` or `"route/edge/profile-write"`): the existing one when
    /// its policy and `maxKeys` are unchanged, else a new one (a changed limit starts with full buckets).
    public func processLimiter(id: String, policy: GCRAPolicy, maxKeys: Int) -> ProcessRateLimiter {
        state.withLock { state in
            if let existing = state.process[id], existing.policy == policy, existing.requestedMaxKeys == maxKeys {
                return existing
            }
            let limiter = ProcessRateLimiter(policy: policy, maxKeys: maxKeys)
            state.process[id] = limiter
            return limiter
        }
    }

    /// The cap of upstream `name`: the existing one when its mode is unchanged, else a new one.
    public func concurrencyLimiter(upstream name: String, mode: ConcurrencyLimiter.Mode) -> ConcurrencyLimiter {
        state.withLock { state in
            if let existing = state.concurrency[name], existing.mode == mode { return existing }
            let limiter = ConcurrencyLimiter(mode)
            state.concurrency[name] = limiter
            return limiter
        }
    }

    /// Forgets everything not named (after a reload is committed); a generation still running keeps its
    /// references, so nothing in use is freed.
    public func retain(limiters ids: Set<String>, upstreams names: Set<String>) {
        state.withLock { state in
            state.process = state.process.filter { ids.contains($0.key) }
            state.concurrency = state.concurrency.filter { names.contains($0.key) }
        }
    }

    /// For the admin view: id → (keys held, capacity, footprint bytes).
    public func processSnapshot() -> [(id: String, keys: Int, capacity: Int, bytes: Int)] {
        state.withLock { state in
            state.process.sorted { $0.key < $1.key }.map { ($0.key, $0.value.count, $0.value.capacity, $0.value.footprintBytes) }
        }
    }

    /// For the admin view: upstream → (in flight, current cap).
    public func concurrencySnapshot() -> [(upstream: String, inFlight: Int, limit: Int)] {
        state.withLock { state in
            state.concurrency.sorted { $0.key < $1.key }.map { ($0.key, $0.value.current, $0.value.limit) }
        }
    }
}
