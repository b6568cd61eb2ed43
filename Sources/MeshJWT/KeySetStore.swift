import MeshSync

/// The current key set of one provider, shared by all workers (SPEC §3: JWKS fetched once per process).
///
/// Workers read it only on a cache miss; the refresher replaces it. `generation` increases with every
/// replacement so per-worker `VerifiedTokenCache`s know to drop answers made with old keys. The lock is held only
/// to copy or swap a few words; no I/O or verification happens under it.
public final class KeySetStore: Sendable {
    /// A consistent view of the store.
    public struct Snapshot: Sendable {
        /// The last good key set; nil until the first successful load (`/readyz` stays 503 meanwhile).
        public var keys: JWKSet?
        /// Bumped by every `replace`.
        public var generation: UInt64
        /// When the last good set was installed (unix seconds), for `meshgate_jwks_age_seconds`.
        public var lastRefresh: Int64?
        /// Failed refreshes since the last success (drives the back-off and the failure counter).
        public var consecutiveFailures: Int
        /// When the last unknown-kid refetch was granted.
        public var lastUnknownKidRefetch: Int64?
        /// A granted unknown-kid refetch has not reported yet (cleared by `replace` and `recordFailure`).
        public var refetchPending: Bool
    }

    /// What a request whose token names an unknown `kid` should do (SPEC §3).
    public enum UnknownKidDecision: Sendable, Equatable {
        /// This caller won the "once per 30 s" slot: ask for the refetch, then wait for it.
        case refetch
        /// A granted refetch is in flight: wait for it (the caller is woken when it reports).
        case wait
        /// The key set changed since the caller read it: verify again with the current one now.
        case retryNow
        /// No refetch can happen now (rate limit, or no `jwks.url`): the token is judged on the keys in hand.
        case deny
    }

    /// False for providers without a `jwks.url`: an unknown kid can never be fetched, so nobody waits.
    public let refetchable: Bool

    private let state: Locked<Snapshot>

    /// Creates a store, optionally with an initial set (file/inline sources have one at start). `refetchable`
    /// says whether the provider has a `jwks.url` an unknown kid can be refetched from.
    public init(initial: JWKSet? = nil, now: Int64 = 0, refetchable: Bool = true) {
        self.refetchable = refetchable
        state = Locked(
            Snapshot(
                keys: initial, generation: initial == nil ? 0 : 1, lastRefresh: initial == nil ? nil : now,
                consecutiveFailures: 0, lastUnknownKidRefetch: nil, refetchPending: false))
    }

    /// The current state.
    public func snapshot() -> Snapshot {
        state.withLock { $0 }
    }

    /// The current key set and its generation.
    public func current() -> (keys: JWKSet?, generation: UInt64) {
        state.withLock { ($0.keys, $0.generation) }
    }

    /// Installs a freshly loaded set; returns the new generation.
    @discardableResult
    public func replace(_ keys: JWKSet, now: Int64) -> UInt64 {
        state.withLock { snapshot in
            snapshot.keys = keys
            snapshot.generation &+= 1
            snapshot.lastRefresh = now
            snapshot.consecutiveFailures = 0
            snapshot.refetchPending = false
            return snapshot.generation
        }
    }

    /// Records a failed refresh, keeping the last good set; returns the delay before the next attempt.
    public func recordFailure(capMilliseconds: Int64) -> Int64 {
        state.withLock { snapshot in
            snapshot.consecutiveFailures += 1
            snapshot.refetchPending = false
            return RefreshSchedule.backoffMilliseconds(
                consecutiveFailures: snapshot.consecutiveFailures, capMilliseconds: capMilliseconds)
        }
    }

    /// Asks for an unknown-kid refetch at `now`: true (and recorded) at most once per 30 s across all workers.
    public func claimUnknownKidRefetch(now: Int64) -> Bool {
        state.withLock { snapshot in
            guard refetchable, RefreshSchedule.refetchAllowed(lastRefetch: snapshot.lastUnknownKidRefetch, now: now)
            else { return false }
            snapshot.lastUnknownKidRefetch = now
            snapshot.refetchPending = true
            return true
        }
    }

    /// Decides, under one lock, what a token with an unknown `kid` verified against generation `seen` does at
    /// `now`. Checking the generation here closes the gap between reading the keys and asking: a set installed
    /// in between is used at once instead of waiting for a wake-up that already happened.
    public func unknownKid(now: Int64, seenGeneration seen: UInt64) -> UnknownKidDecision {
        state.withLock { snapshot in
            guard refetchable else { return .deny }
            if snapshot.generation != seen { return .retryNow }
            guard RefreshSchedule.refetchAllowed(lastRefetch: snapshot.lastUnknownKidRefetch, now: now) else {
                // A refetch that never reported (its fetch was cancelled) stops making requests wait once its
                // 30 s slot is over: the next unknown kid claims a new one.
                return snapshot.refetchPending ? .wait : .deny
            }
            snapshot.lastUnknownKidRefetch = now
            snapshot.refetchPending = true
            return .refetch
        }
    }

    /// Age of the key set in seconds at `now`; nil before the first load.
    public func age(now: Int64) -> Int64? {
        state.withLock { snapshot in snapshot.lastRefresh.map { max(0, now - $0) } }
    }
}
