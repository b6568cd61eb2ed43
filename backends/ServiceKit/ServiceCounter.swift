import Synchronization

/// A label-less counter a service owns and increments in its handlers (e.g. relationship-service's
/// `profile_lookup_degraded_total`), exported on `GET /metrics` beside the server's own series once
/// registered with `Router.addCounter`. Atomic, since the exposition may read it from another thread.
public final class ServiceCounter: Sendable {
    /// The metric name (`[a-z_:][a-z0-9_:]*`, ending in `_total`).
    public let name: String
    /// The `# HELP` text.
    public let help: String
    private let count = Atomic<UInt64>(0)

    public init(_ name: String, help: String) {
        self.name = name
        self.help = help
    }

    /// Adds one.
    public func increment() {
        count.add(1, ordering: .relaxed)
    }

    /// The current count.
    public var value: UInt64 { count.load(ordering: .relaxed) }
}
