import MeshConfig
import MeshPosix
import MeshSync
import Synchronization

/// The addresses every upstream endpoint resolved to, published by the control plane and read by workers
/// (SPEC §3: a DNS name is resolved at load time and again every `dns_refresh_ms`).
///
/// Workers check `generation` (one relaxed atomic load) on their own schedule and take a `snapshot()` only when
/// it moved. A snapshot is immutable; publishing swaps it under a lock held for a pointer copy.
public final class ResolvedAddresses: Sendable {
    /// One immutable view of every upstream's addresses.
    public struct Snapshot: Sendable {
        /// Bumped by every publish that changed something; 0 before the first.
        public let generation: Int
        /// upstream name → `[endpoint index][address]`, endpoints in the upstream's config order. An endpoint
        /// whose name never resolved has an empty list.
        public let upstreams: [String: [[SocketAddress]]]
        /// upstream name → the configured endpoints the rows above belong to (same order).
        public let endpoints: [String: [HostPort]]

        /// Creates a snapshot.
        public init(generation: Int, upstreams: [String: [[SocketAddress]]], endpoints: [String: [HostPort]]) {
            self.generation = generation
            self.upstreams = upstreams
            self.endpoints = endpoints
        }

        /// The addresses of endpoint `endpoint` of `upstream`, empty when unknown.
        public func addresses(upstream: String, endpoint: HostPort) -> [SocketAddress] {
            guard let configured = endpoints[upstream], let index = configured.firstIndex(of: endpoint),
                let rows = upstreams[upstream], index < rows.count
            else { return [] }
            return rows[index]
        }

        /// `[upstream][endpoint]` → the first address of each endpoint, in `order` (the shape `Worker` takes);
        /// nil when an upstream or endpoint is missing or has no address.
        public func firstAddresses(order: [String]) -> [[SocketAddress]]? {
            var result: [[SocketAddress]] = []
            for name in order {
                guard let rows = upstreams[name] else { return nil }
                var row: [SocketAddress] = []
                for addresses in rows {
                    guard let first = addresses.first else { return nil }
                    row.append(first)
                }
                result.append(row)
            }
            return result
        }
    }

    private let current = Locked(Snapshot(generation: 0, upstreams: [:], endpoints: [:]))
    private let generationValue = Atomic<Int>(0)

    /// Creates an empty table (generation 0).
    public init() {}

    /// The generation of the current snapshot: cheap enough to check once per loop iteration.
    public var generation: Int { generationValue.load(ordering: .acquiring) }

    /// The current snapshot.
    public func snapshot() -> Snapshot { current.withLock { $0 } }

    /// Installs `upstreams`/`endpoints` if they differ from the current snapshot; returns the new generation,
    /// nil when nothing changed.
    @discardableResult
    public func publish(upstreams: [String: [[SocketAddress]]], endpoints: [String: [HostPort]]) -> Int? {
        modify { rows, configured in
            rows = upstreams
            configured = endpoints
        }
    }

    /// Edits the table atomically (the DNS refresher and a reload may publish concurrently): `body` gets the
    /// current rows and endpoints and may change them; a new snapshot is published only if they changed.
    /// Returns the new generation, nil when nothing changed. `body` runs under the lock: no I/O in it.
    @discardableResult
    public func modify(
        _ body: (inout [String: [[SocketAddress]]], inout [String: [HostPort]]) -> Void
    ) -> Int? {
        current.withLock { snapshot in
            var rows = snapshot.upstreams
            var configured = snapshot.endpoints
            body(&rows, &configured)
            guard rows != snapshot.upstreams || configured != snapshot.endpoints else { return nil }
            snapshot = Snapshot(generation: snapshot.generation + 1, upstreams: rows, endpoints: configured)
            // Stored under the lock so the counter never runs ahead of the snapshot it announces.
            generationValue.store(snapshot.generation, ordering: .releasing)
            return snapshot.generation
        }
    }
}
