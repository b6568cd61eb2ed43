/// Endpoint selection (SPEC §3 `balance`). Every balancer works on indices `0..<count` of the caller's endpoint
/// array, asks `eligible` for each (breaker open or unhealthy → false), and avoids `avoiding` (the endpoint of
/// the failed attempt, so retries prefer another one) unless it is the only eligible endpoint. They return nil
/// when nothing is eligible. Nothing allocates: the predicates are non-escaping closures.
public enum BalanceKind: String, Sendable, CaseIterable {
    /// `round_robin` (the default).
    case roundRobin = "round_robin"
    /// `least_request`: power of two choices.
    case leastRequest = "least_request"
    /// `random`.
    case random = "random"
}

/// Round robin over the eligible endpoints.
///
/// The cursor is per instance; one instance per worker per upstream spreads evenly within the worker.
public struct RoundRobin: Sendable, Equatable {
    /// Index where the next scan starts.
    public private(set) var next: Int = 0

    /// Creates a balancer starting at index 0.
    public init() {}

    /// Picks the next eligible endpoint after the previous pick, skipping `avoiding` unless it is the only one.
    public mutating func pick(count: Int, avoiding: Int? = nil, eligible: (Int) -> Bool) -> Int? {
        guard count > 0 else { return nil }
        let start = next % count
        var fallback: Int?
        for step in 0..<count {
            let index = (start + step) % count
            guard eligible(index) else { continue }
            if index == avoiding {
                fallback = index
                continue
            }
            next = (index + 1) % count
            return index
        }
        if let fallback { next = (fallback + 1) % count }
        return fallback
    }
}

/// Uniformly random choice among the eligible endpoints.
public struct RandomPick: Sendable, Equatable {
    /// Creates the (stateless) balancer.
    public init() {}

    /// Picks an eligible endpoint using `random`, skipping `avoiding` unless it is the only one.
    public func pick(count: Int, avoiding: Int? = nil, random: UInt64, eligible: (Int) -> Bool) -> Int? {
        let (size, fallback) = EligibleSet.scan(count: count, avoiding: avoiding, eligible: eligible)
        guard size > 0 else { return fallback }
        return EligibleSet.element(Int(random % UInt64(size)), count: count, avoiding: avoiding, eligible: eligible)
    }
}

/// Least request with power of two choices: two distinct random eligible endpoints, the one with fewer active
/// requests wins (the first drawn on a tie).
public struct LeastRequest: Sendable, Equatable {
    /// Creates the (stateless) balancer.
    public init() {}

    /// Picks an endpoint; `random` supplies both draws (low and high 32 bits), `active` the request counts.
    public func pick(
        count: Int, avoiding: Int? = nil, random: UInt64, eligible: (Int) -> Bool, active: (Int) -> Int
    ) -> Int? {
        let (size, fallback) = EligibleSet.scan(count: count, avoiding: avoiding, eligible: eligible)
        guard size > 0 else { return fallback }
        let first = Int(UInt64(UInt32(truncatingIfNeeded: random)) % UInt64(size))
        let a = EligibleSet.element(first, count: count, avoiding: avoiding, eligible: eligible)
        guard size > 1 else { return a }
        // Second draw among the other size-1 candidates, so the two are always distinct.
        var second = Int((random >> 32) % UInt64(size - 1))
        if second >= first { second += 1 }
        let b = EligibleSet.element(second, count: count, avoiding: avoiding, eligible: eligible)
        return active(b) < active(a) ? b : a
    }
}

/// One balancer of any kind, for a caller that picks the kind from config.
public enum LoadBalancer: Sendable, Equatable {
    /// `round_robin`.
    case roundRobin(RoundRobin)
    /// `least_request`.
    case leastRequest(LeastRequest)
    /// `random`.
    case random(RandomPick)

    /// A fresh balancer of `kind`.
    public init(kind: BalanceKind) {
        switch kind {
        case .roundRobin: self = .roundRobin(RoundRobin())
        case .leastRequest: self = .leastRequest(LeastRequest())
        case .random: self = .random(RandomPick())
        }
    }

    /// Picks an endpoint; `random` and `active` are ignored by the kinds that do not need them.
    public mutating func pick(
        count: Int, avoiding: Int? = nil, random: UInt64, eligible: (Int) -> Bool, active: (Int) -> Int
    ) -> Int? {
        switch self {
        case .roundRobin(var rr):
            let picked = rr.pick(count: count, avoiding: avoiding, eligible: eligible)
            self = .roundRobin(rr)
            return picked
        case .leastRequest(let lr):
            return lr.pick(count: count, avoiding: avoiding, random: random, eligible: eligible, active: active)
        case .random(let rp):
            return rp.pick(count: count, avoiding: avoiding, random: random, eligible: eligible)
        }
    }
}

/// The eligible indices minus `avoiding`, counted and enumerated without storing them.
enum EligibleSet {
    /// Number of eligible indices other than `avoiding`, and `avoiding` itself when it is eligible.
    static func scan(count: Int, avoiding: Int?, eligible: (Int) -> Bool) -> (size: Int, fallback: Int?) {
        var size = 0
        var fallback: Int?
        for index in 0..<max(0, count) where eligible(index) {
            if index == avoiding { fallback = index } else { size += 1 }
        }
        return (size, fallback)
    }

    /// The `n`-th (0-based) eligible index other than `avoiding`, in index order.
    static func element(_ n: Int, count: Int, avoiding: Int?, eligible: (Int) -> Bool) -> Int {
        var seen = 0
        for index in 0..<count where index != avoiding && eligible(index) {
            if seen == n { return index }
            seen += 1
        }
        preconditionFailure("EligibleSet.element: index \(n) out of range")
    }
}
