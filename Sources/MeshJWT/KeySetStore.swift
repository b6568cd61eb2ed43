import Synchronization

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
    }

    private let state: Mutex<Snapshot>

    /// Creates a store, optionally with an initial set (file/inline sources have one at start).
    public init(initial: JWKSet? = nil, now: Int64 = 0) {
        state = Mutex(
            Snapshot(
                keys: initial, generation: initial == nil ? 0 : 1, lastRefresh: initial == nil ? nil : now,
                consecutiveFailures: 0, lastUnknownKidRefetch: nil))
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
            return snapshot.generation
        }
    }

    /// Records a failed refresh, keeping the last good set; returns the delay before the next attempt.
    public func recordFailure(capMilliseconds: Int64) -> Int64 {
        state.withLock { snapshot in
            snapshot.consecutiveFailures += 1
            return RefreshSchedule.backoffMilliseconds(
                consecutiveFailures: snapshot.consecutiveFailures, capMilliseconds: capMilliseconds)
        }
    }

    /// Asks for an unknown-kid refetch at `now`: true (and recorded) at most once per 30 s across all workers.
    public func claimUnknownKidRefetch(now: Int64) -> Bool {
        state.withLock { snapshot in
            guard RefreshSchedule.refetchAllowed(lastRefetch: snapshot.lastUnknownKidRefetch, now: now) else {
                return false
            }
            snapshot.lastUnknownKidRefetch = now
            return true
        }
    }

    /// Age of the key set in seconds at `now`; nil before the first load.
    public func age(now: Int64) -> Int64? {
        state.withLock { snapshot in snapshot.lastRefresh.map { max(0, now - $0) } }
    }
}
