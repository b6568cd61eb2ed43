import CLinux
import Glibc
import MeshConfig
import MeshEventLoop
import MeshPosix
import MeshSync

/// The process's control plane: one thread with its own `EventLoop` that fetches JWKS URLs (once per process,
/// not per worker), runs active health checks and re-resolves DNS names (SPEC §3), plus the readiness rule of
/// SPEC §6/§7 (`/readyz` and the sidecar wait until every JWT provider has keys).
///
/// Thread-safe: every public method may be called from any thread. Callbacks run on the control thread and
/// must not block. Lifecycle: `init` → `start()` → (`reconfigure` …) → `stop()`.
public final class ControlPlane: Sendable {
    /// Hooks for metrics and logs (the gateway wires them to telemetry). All run on the control thread.
    public struct Callbacks: Sendable {
        /// A `jwks.url` fetch finished: provider name, success, and on failure an operator-readable reason.
        public var onRefresh: @Sendable (_ provider: String, _ success: Bool, _ error: String?) -> Void
        /// Active health checks moved an endpoint to a new health.
        public var onHealthChange:
            @Sendable (_ upstream: String, _ endpoint: HostPort, _ health: EndpointHealth)
                -> Void
        /// An endpoint's name did not resolve (its previous addresses, if any, are kept).
        public var onResolveFailure: @Sendable (_ upstream: String, _ endpoint: HostPort, _ error: String) -> Void

        /// Creates callbacks; each defaults to doing nothing.
        public init(
            onRefresh: @escaping @Sendable (String, Bool, String?) -> Void = { _, _, _ in },
            onHealthChange: @escaping @Sendable (String, HostPort, EndpointHealth) -> Void = { _, _, _ in },
            onResolveFailure: @escaping @Sendable (String, HostPort, String) -> Void = { _, _, _ in }
        ) {
            self.onRefresh = onRefresh
            self.onHealthChange = onHealthChange
            self.onResolveFailure = onResolveFailure
        }
    }

    private struct Desired {
        var config: GatewayConfig
        var endpoints: [[EndpointState]]
        var runtimes: [ProviderRuntime]
    }

    private enum Phase {
        case idle
        case running(thread: WorkerThread, resolver: BlockingResolver, state: ControlState)
        case stopped
    }

    /// Every JWT provider's runtime; workers take theirs from here.
    public let providers: ProviderRegistry
    /// Endpoint addresses, refreshed every `dns_refresh_ms`; workers poll `addresses.generation`.
    public let addresses: ResolvedAddresses
    private let loop: EventLoop
    private let callbacks: Callbacks
    private let environment: @Sendable (String) -> String?
    private let lookup: BlockingResolver.Lookup
    private let desired: Locked<Desired>
    private let phase = Locked(Phase.idle)
    private let keyWatchers: KeyWatchers

    /// Builds provider runtimes (loading `jwks.file`/`jwks.inline` now; problems are in each runtime's
    /// `loadErrors`). `endpoints[i]` are the shared states of `config.upstreamOrder[i]`. Nothing runs until
    /// `start()`. `lookup` resolves endpoint names (default getaddrinfo; tests inject their own DNS).
    public init(
        config: GatewayConfig,
        endpoints: [[EndpointState]],
        callbacks: Callbacks = Callbacks(),
        environment: @escaping @Sendable (String) -> String? = { ProviderRuntime.processEnvironment($0) },
        lookup: @escaping BlockingResolver.Lookup = BlockingResolver.system
    ) throws(SystemError) {
        loop = try EventLoop()
        providers = ProviderRegistry()
        addresses = ResolvedAddresses()
        // Every fetch's report also wakes whoever waits for keys (requests parked on an unknown kid).
        let watchers = KeyWatchers()
        var wired = callbacks
        wired.onRefresh = { provider, success, error in
            callbacks.onRefresh(provider, success, error)
            watchers.notify(provider)
        }
        self.callbacks = wired
        keyWatchers = watchers
        self.environment = environment
        self.lookup = lookup
        let runtimes = providers.update(config: config, environment: environment)
        desired = Locked(Desired(config: config, endpoints: endpoints, runtimes: runtimes))
    }

    // MARK: - Lifecycle

    /// Resolves every endpoint (blocking, on the calling thread, before the loop runs), then starts the control
    /// thread: JWKS fetches and health probes begin at once. A second call does nothing.
    public func start() throws(SystemError) {
        let current = desired.withLock { $0 }
        publishAddresses(current.config)
        try phase.withLock { phase throws(SystemError) in
            guard case .idle = phase else { return }
            let resolver = BlockingResolver(lookup: lookup)
            let state: ControlState
            do throws(SystemError) {
                state = try ControlState(loop: loop, resolver: resolver, addresses: addresses, callbacks: callbacks)
            } catch {
                resolver.stop()
                throw error
            }
            let loop = self.loop
            let thread = WorkerThread(name: "meshgate-ctl") { loop.run() }
            phase = .running(thread: thread, resolver: resolver, state: state)
        }
        post { state in
            let latest = self.desired.withLock { $0 }
            state.apply(runtimes: latest.runtimes, config: latest.config, endpoints: latest.endpoints)
        }
    }

    /// Stops probes and fetches (requests in flight are cancelled), joins the control and resolver threads.
    /// Idempotent; the control plane cannot be started again.
    public func stop() {
        let running = phase.withLock { phase -> (WorkerThread, BlockingResolver, ControlState)? in
            defer { phase = .stopped }
            if case .running(let thread, let resolver, let state) = phase { return (thread, resolver, state) }
            return nil
        }
        guard let (thread, resolver, state) = running else { return }
        loop.execute { state.shutdown() }
        loop.stop()
        thread.join()
        resolver.stop()
    }

    /// Applies a reloaded config: providers with unchanged key sources keep their keys (and refresher),
    /// upstreams with unchanged health checks and endpoints keep their checker. New endpoint names are
    /// resolved here, blocking, before this returns. `endpoints` as in `init`.
    public func reconfigure(config: GatewayConfig, endpoints: [[EndpointState]]) {
        let runtimes = providers.update(config: config, environment: environment)
        desired.withLock { $0 = Desired(config: config, endpoints: endpoints, runtimes: runtimes) }
        publishAddresses(config)
        post { state in state.apply(runtimes: runtimes, config: config, endpoints: endpoints) }
    }

    // MARK: - Keys and readiness

    /// True when every JWT provider has a key set (or its `secret_env` secret): SPEC §3 keeps `/readyz` 503
    /// until then. True with no providers.
    public var isReady: Bool { providers.isReady }

    /// Waits (polling every 10 ms) until `isReady` or `timeoutMs` passed; returns `isReady`. For the sidecar's
    /// start order (SPEC §7): the app starts only once every provider has keys. Never call it on a loop.
    public func waitUntilReady(timeoutMs: Int) -> Bool {
        let deadline = clinux_monotonic_ns() + Int64(timeoutMs) * 1_000_000
        while !isReady {
            if clinux_monotonic_ns() >= deadline { return false }
            usleep(10_000)
        }
        return true
    }

    /// A worker saw an unknown `kid`: refetch the provider's `jwks.url` unless one was granted in the last
    /// 30 s (SPEC §3; `now` is unix seconds). Returns true when a fetch was requested. Any thread.
    @discardableResult
    public func requestRefetch(provider: String, now: Int64 = ProviderRuntime.unixNow()) -> Bool {
        // Not running: do not burn the 30 s slot on a fetch that cannot happen.
        guard runningState() != nil, let runtime = providers.runtime(named: provider), runtime.keys.url != nil,
            runtime.store.claimUnknownKidRefetch(now: now)
        else { return false }
        post { state in state.refetch(runtime.keys) }
        return true
    }

    /// Like `requestRefetch`, for a caller that already holds the "once per 30 s" slot: `Authenticator`'s
    /// outcome has `refetchKeys == true` exactly when it claimed it. Any thread.
    public func refetchClaimed(provider: String) {
        guard let runtime = providers.runtime(named: provider), runtime.keys.url != nil else { return }
        post { state in state.refetch(runtime.keys) }
    }

    /// Registers `handler` to run on the control thread after every `jwks.url` fetch of a provider reported,
    /// good or failed (the key store is updated first), with the provider's name. Workers use it to re-judge
    /// requests parked on an unknown `kid` (SPEC §3). Handlers must not block; they stay for the process's life.
    public func onKeysFetched(_ handler: @escaping @Sendable (String) -> Void) {
        keyWatchers.add(handler)
    }

    /// Fetches started so far for `provider`'s `jwks.url` (for tests and debugging). Blocks until the control
    /// thread answers; 0 when not running.
    public func fetchCount(provider: String) -> Int {
        guard let keys = providers.runtime(named: provider)?.keys else { return 0 }
        return onLoop(default: 0) { state in state.fetches(for: keys) }
    }

    /// Upstreams with a running health checker → probes it has started (for tests and debugging). Blocks until
    /// the control thread answers; empty when not running.
    public func activeHealthChecks() -> [String: Int] {
        onLoop(default: [:]) { state in state.healthCheckProbes() }
    }

    // MARK: - Internals

    private func publishAddresses(_ config: GatewayConfig) {
        let resolved = DNSRefresher.resolveAll(
            config,
            previous: addresses.snapshot(),
            lookup: lookup,
            onFailure: callbacks.onResolveFailure
        )
        addresses.publish(upstreams: resolved.upstreams, endpoints: resolved.endpoints)
    }

    /// Runs `body` on the control thread if it is running.
    private func post(_ body: @escaping @Sendable (ControlState) -> Void) {
        guard let state = runningState() else { return }
        loop.execute { body(state) }
    }

    private func runningState() -> ControlState? {
        phase.withLock { phase in
            if case .running(_, _, let state) = phase { return state }
            return nil
        }
    }

    /// Runs `body` on the control thread and waits (at most 5 s: the loop may be stopping) for its answer.
    private func onLoop<T: Sendable>(default value: T, _ body: @escaping @Sendable (ControlState) -> T) -> T {
        guard let state = runningState() else { return value }
        let reply = ControlReply<T>()
        loop.execute { reply.deliver(body(state)) }
        return reply.wait(timeoutMs: 5000) ?? value
    }
}
