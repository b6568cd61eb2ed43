import Synchronization

/// What one Redis connection has seen, for `/upstreams` (or a rate-limit admin view) and the store-error
/// metric. Written by the connection's loop thread, read from any thread (relaxed atomics: a reader may see a
/// slightly stale value, never a torn one).
public final class RedisCounters: Sendable {
    /// Commands written to the socket.
    public let commands = Atomic<UInt64>(0)
    /// Replies received (error replies included).
    public let replies = Atomic<UInt64>(0)
    /// Commands failed because no reply came within `timeout_ms`.
    public let timeouts = Atomic<UInt64>(0)
    /// Commands failed because the connection was lost or never came up.
    public let connectionErrors = Atomic<UInt64>(0)
    /// Connections established (the first one included).
    public let connects = Atomic<UInt64>(0)
    /// Established connections lost (closed by Redis, reset, timed out, protocol error).
    public let disconnects = Atomic<UInt64>(0)
    /// Connection attempts that failed (refused, reset, timed out).
    public let connectFailures = Atomic<UInt64>(0)
    /// Whether the connection is up now.
    public let connected = Atomic<Bool>(false)

    public init() {}

    @inline(__always)
    func bump(_ counter: borrowing Atomic<UInt64>) {
        counter.add(1, ordering: .relaxed)
    }
}
