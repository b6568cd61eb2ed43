/// A per-handler deadline on a loop's timer heap, armed lazily so the heap holds about one entry per handler.
///
/// Moving a deadline later costs nothing (the earlier entry fires, sees the new deadline and re-arms);
/// moving it earlier pushes one entry. That keeps per-request timeouts off the hot path (no heap operation
/// for most requests) without a cancellation API.
public struct LazyTimer {
    public private(set) var deadlineMs: Int64 = .max
    private var armedMs: Int64 = .max

    public init() {}

    /// Sets the deadline (`.max` for none). `loop` is evaluated only when an entry must be scheduled (a later or
    /// equal deadline, the common case, costs no reference count on the loop).
    @inline(__always)
    public mutating func set(_ deadlineMs: Int64, loop: @autoclosure () -> EventLoop, registration: Registration) {
        self.deadlineMs = deadlineMs
        if deadlineMs < armedMs {
            armedMs = deadlineMs
            loop().schedule(registration, atMs: deadlineMs)
        }
    }

    /// Call from `handleTimer`. True when the deadline has really passed; otherwise re-arms if needed.
    public mutating func fired(nowMs: Int64, loop: EventLoop, registration: Registration) -> Bool {
        // An entry that fires while a still-earlier one is armed is a leftover: the armed one decides.
        guard armedMs <= nowMs else { return false }
        armedMs = .max
        if deadlineMs <= nowMs {
            deadlineMs = .max
            return true
        }
        if deadlineMs != .max {
            armedMs = deadlineMs
            loop.schedule(registration, atMs: deadlineMs)
        }
        return false
    }
}
