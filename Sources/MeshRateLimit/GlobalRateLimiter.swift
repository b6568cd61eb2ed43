/// `scope: "global"`: one limit shared by every replica through Redis, with a local fast path. Sans-IO: it
/// says which command to send and consumes replies; `MeshRedis.RedisConnection` (or a test) carries them.
///
/// Algorithm (batch reservation over GCRA in Redis, see `GlobalScript`): each holder (one per worker per
/// replica) reserves up to `batch` requests of a key at once with one atomic script run, then admits them
/// locally without talking to Redis. When its reserve falls to `batch / 2` it reserves the next batch in the
/// background, so a steady client rarely waits for Redis. Redis charges the whole batch at reservation, on its
/// own clock (`TIME`), so replicas' clocks do not matter.
///
/// Error bound: Redis never grants more than GCRA allows (`burst + rate · D` in any interval D); what a holder
/// admits was granted, but possibly earlier. A holder keeps at most `batch / 2 + batch` unspent requests, so
/// in any interval the process set admits at most `burst + rate · D + H · ⌊1.5 · batch⌋` for H holders
/// (replicas × workers). Reserved requests expire after `leaseNs` unused (they are lost, never over-admitted),
/// so a holder cannot sit on a reserve and spend it much later. With `batch = 1` it is exact and every request
/// waits for Redis.
///
/// Single-threaded: one instance per worker, used on its event loop.
public final class GlobalRateLimiter {
    /// What the request path does with a request.
    public enum Verdict: Equatable, Sendable {
        /// Proceed (headers from the decision).
        case allowed(RateLimitDecision)
        /// Answer 429 (headers from the decision).
        case denied(RateLimitDecision)
        /// Park the request on the key's digest; check again after `completed`/`failed` of a ticket with that
        /// digest (the store's `timeout_ms` bounds the wait).
        case wait
        /// The store is failing: `on_error` decided (`true`: allow). Count it in
        /// `meshgate_rate_limit_store_errors_total`.
        case storeError(allowed: Bool)
    }

    /// A reservation to send; hand its `command` to the Redis connection and its ticket back with the reply.
    public struct Fetch: Sendable {
        public let ticket: Ticket
        public let command: [UInt8]
    }

    /// Identifies one reservation; a reply for a key evicted meanwhile is ignored (as gobreaker's generations).
    public struct Ticket: Sendable, Equatable {
        let slot: Int
        let generation: UInt64
        public let digest: UInt64
    }

    public struct Check: Sendable {
        public let verdict: Verdict
        /// Non-nil: send this now (whatever the verdict).
        public let fetch: Fetch?
    }

    struct Entry {
        var tokens = 0
        var leaseEndNs: Int64 = 0
        var fetching = false
        var deniedUntilNs: Int64 = 0
        var generation: UInt64 = 0
        /// What Redis said remained beyond the batch, and until the key is full, at the last grant.
        var storeRemaining = 0
        var resetAtNs: Int64 = 0
    }

    public let settings: GlobalLimitSettings
    private var table: LocalKeyTable<Entry>
    private var generation: UInt64 = 0
    /// Until then the store is considered down: no reservations, `on_error` decides.
    private var storeDownUntilNs: Int64 = 0

    public init(settings: GlobalLimitSettings) {
        self.settings = settings
        table = LocalKeyTable(maxKeys: settings.maxKeys, empty: Entry())
    }

    /// Keys held by this worker.
    public var keyCount: Int { table.count }

    /// Judges one request for a key (`digest` from `RateLimitKey.digest`, `keyBytes` the same key's bytes, used
    /// only to name the Redis key when a reservation is needed).
    public func check(digest: UInt64, keyBytes: UnsafeRawBufferPointer, now: Int64) -> Check {
        let (slot, fresh) = table.slot(digest, now: now, empty: Entry())
        if fresh {
            generation &+= 1
            table[slot].generation = generation
        }
        var entry = table[slot]
        defer { table[slot] = entry }
        if entry.tokens > 0 && entry.leaseEndNs <= now { entry.tokens = 0 }  // the lease ran out: forget them
        if entry.tokens > 0 {
            entry.tokens -= 1
            let decision = RateLimitDecision.allowed(
                remaining: entry.tokens + entry.storeRemaining, resetNs: max(0, entry.resetAtNs - now))
            return Check(verdict: .allowed(decision), fetch: prefetch(&entry, slot, digest, keyBytes, now))
        }
        if entry.deniedUntilNs > now {
            let decision = RateLimitDecision.denied(
                retryAfterNs: entry.deniedUntilNs - now, resetNs: max(0, entry.resetAtNs - now))
            return Check(verdict: .denied(decision), fetch: nil)
        }
        if storeDownUntilNs > now { return Check(verdict: .storeError(allowed: settings.allowOnError), fetch: nil) }
        if entry.fetching { return Check(verdict: .wait, fetch: nil) }
        return Check(verdict: .wait, fetch: startFetch(&entry, slot, digest, keyBytes))
    }

    /// Feeds the reply of a reservation. Then re-check the requests parked on `ticket.digest`.
    public func completed(_ ticket: Ticket, reply: RESPValue, now: Int64) {
        guard case .array(let items?) = reply, items.count == 3, let granted = items[0].intValue,
            let wait = items[1].intValue, let remaining = items[2].intValue
        else { return failed(ticket, now: now) }
        // The key was evicted meanwhile: its grant is dropped (under-admission, never over).
        guard table[ticket.slot].generation == ticket.generation else { return }
        var entry = table[ticket.slot]
        entry.fetching = false
        if granted > 0 {
            entry.tokens += Int(granted)
            entry.leaseEndNs = now + settings.leaseNs
            entry.storeRemaining = Int(remaining)
            entry.resetAtNs = now + wait * 1000
            entry.deniedUntilNs = 0
        } else {
            entry.deniedUntilNs = now + max(1, wait) * 1000
            entry.storeRemaining = 0
            entry.resetAtNs = entry.deniedUntilNs + settings.policy.toleranceNs - settings.policy.emissionIntervalNs
        }
        table[ticket.slot] = entry
    }

    /// The reservation failed (timeout, connection lost, error reply, or `send` refused it): the store counts as
    /// down for `settings.storeDownHoldNs` (or until `storeUp()`), during which `check` answers `.storeError`
    /// without waiting. Then re-check the requests parked on `ticket.digest`.
    public func failed(_ ticket: Ticket, now: Int64) {
        storeDown(now: now)
        guard table[ticket.slot].generation == ticket.generation else { return }
        table[ticket.slot].fetching = false
    }

    /// The connection to the store is known to be down (the client calls this when a connect fails).
    public func storeDown(now: Int64) {
        storeDownUntilNs = max(storeDownUntilNs, now + settings.storeDownHoldNs)
    }

    /// The connection is up again: reservations resume at once.
    public func storeUp() {
        storeDownUntilNs = 0
    }

    // MARK: - Reservations

    private func prefetch(
        _ entry: inout Entry, _ slot: Int, _ digest: UInt64, _ keyBytes: UnsafeRawBufferPointer, _ now: Int64
    ) -> Fetch? {
        guard !entry.fetching, entry.tokens <= settings.batch / 2, storeDownUntilNs <= now else { return nil }
        return startFetch(&entry, slot, digest, keyBytes)
    }

    private func startFetch(_ entry: inout Entry, _ slot: Int, _ digest: UInt64, _ keyBytes: UnsafeRawBufferPointer)
        -> Fetch
    {
        entry.fetching = true
        let ticket = Ticket(slot: slot, generation: entry.generation, digest: digest)
        let key = RateLimitKey.redisKey(prefix: settings.redisKeyPrefix, keyBytes)
        return Fetch(ticket: ticket, command: GlobalScript.command(key: key, settings: settings))
    }
}

/// The global limit's settings, from `rate_limit` and `rate_limits.store`.
public struct GlobalLimitSettings: Sendable {
    public let policy: GCRAPolicy
    /// Requests reserved per round trip.
    public let batch: Int
    /// Unused reserved requests are dropped this long after their grant.
    public let leaseNs: Int64
    /// `on_error: "allow"`.
    public let allowOnError: Bool
    /// How long a failure keeps the store "down" (no reservations, `on_error` decides).
    public let storeDownHoldNs: Int64
    /// Names the limit in Redis (`meshgate:rl:<route>:`), so routes do not share buckets.
    public let redisKeyPrefix: [UInt8]
    public let maxKeys: Int

    /// - Parameter batch: nil picks `GlobalLimitSettings.defaultBatch(for:)`.
    public init(
        policy: GCRAPolicy, name: String, allowOnError: Bool, maxKeys: Int, batch: Int? = nil,
        leaseNs: Int64 = 1_000_000_000, storeDownHoldNs: Int64 = 1_000_000_000
    ) {
        self.policy = policy
        self.batch = max(1, batch ?? Self.defaultBatch(for: policy))
        self.leaseNs = leaseNs
        self.allowOnError = allowOnError
        self.storeDownHoldNs = storeDownHoldNs
        redisKeyPrefix = Array("meshgate:rl:\(name):".utf8)
        self.maxKeys = maxKeys
    }

    /// A tenth of a second of the rate, at most an eighth of the burst, at least 1: 100 rps / burst 200 → 10.
    /// Small enough that the error bound stays a fraction of the burst for a handful of holders.
    public static func defaultBatch(for policy: GCRAPolicy) -> Int {
        let tenth = Int(100_000_000 / policy.emissionIntervalNs)
        return max(1, min(tenth, policy.burst / 8))
    }
}
