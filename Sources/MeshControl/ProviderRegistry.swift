import MeshConfig
import MeshSync

/// Every JWT provider's runtime, by name, surviving reloads (SPEC §7: a reload must not make requests fail).
///
/// `update` applies a new config: a provider whose whole configuration (and secret) is unchanged keeps its
/// runtime object; one whose key sources are unchanged gets a new runtime sharing the old `ProviderKeys`, so
/// fetched keys are kept; anything else starts fresh. Thread-safe; workers look runtimes up by name.
public final class ProviderRegistry: Sendable {
    private let runtimes = Locked<[String: ProviderRuntime]>([:])

    /// Creates an empty registry.
    public init() {}

    /// Applies the providers of `config`; returns the runtimes now current, sorted by name. File and inline
    /// sources are (re)read here, synchronously: call it off the workers' loops.
    @discardableResult
    public func update(
        config: GatewayConfig,
        environment: (String) -> String? = ProviderRuntime.processEnvironment,
        now: Int64 = ProviderRuntime.unixNow()
    ) -> [ProviderRuntime] {
        let previous = runtimes.withLock { $0 }
        var next: [String: ProviderRuntime] = [:]
        for name in config.jwtProviders.keys.sorted() {
            let provider = config.jwtProviders[name]!
            let fingerprint = ProviderRuntime.Fingerprint(config: provider, environment: environment)
            if let old = previous[name], old.fingerprint == fingerprint {
                old.keys.reloadStatic(now: now)
                next[name] = old
            } else if let old = previous[name], old.keys.fingerprint == ProviderKeys.identities(provider.jwks) {
                old.keys.reloadStatic(now: now)
                next[name] = ProviderRuntime(config: provider, keys: old.keys, environment: environment, now: now)
            } else {
                next[name] = ProviderRuntime(config: provider, environment: environment, now: now)
            }
        }
        runtimes.withLock { $0 = next }
        return next.keys.sorted().map { next[$0]! }
    }

    /// The runtime of provider `name`, nil when the current config has none.
    public func runtime(named name: String) -> ProviderRuntime? {
        runtimes.withLock { $0[name] }
    }

    /// Every current runtime, sorted by name.
    public var all: [ProviderRuntime] {
        let current = runtimes.withLock { $0 }
        return current.keys.sorted().map { current[$0]! }
    }

    /// True when every provider can check tokens (SPEC §3: `/readyz` stays 503 until then).
    public var isReady: Bool { all.allSatisfy(\.hasKeys) }
}
