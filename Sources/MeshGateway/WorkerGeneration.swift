import MeshControl
import MeshJWT
import MeshProxy
import MeshTLS

/// Everything one worker serves a config generation with: the compiled config and the runtime objects its
/// indexes point into (`CompiledRoute.upstreamIndex` → `upstreams`, `CompiledRoute.jwtProvider` →
/// `providers`, listener and route indexes → `telemetry`).
///
/// A reload, and a DNS change that moves an endpoint, build a new generation; the worker swaps its reference
/// between events. An exchange pins the generation it started on (through its `ListenerBinding`), so an
/// index taken from its route can only ever meet the arrays it was computed for (STYLE "Lifetimes across
/// config generations"). Worker thread only.
final class WorkerGeneration {
    let config: CompiledConfig
    /// `config.upstreamNames` order.
    let upstreams: [UpstreamRuntime]
    /// `config.providerNames` order.
    let providers: [ProviderRuntime]
    /// This worker's verified-token cache per provider (same order), carried from the previous generation for
    /// the provider objects it shares with it.
    var tokenCaches: [VerifiedTokenCache]
    /// The worker's telemetry shard of this generation: its label indexes are this config's.
    let telemetry: WorkerTelemetry
    /// Process-wide telemetry of this generation (breaker transitions, labelled by this config's indexes).
    let processTelemetry: Telemetry
    /// `config.listeners` order: the TLS context of each TLS listener, nil for plaintext ones.
    let listenerTLS: [TLSServerContext?]
    /// `config.upstreamNames` order: the client context of each TLS upstream, nil for cleartext ones.
    let upstreamTLS: [TLSClientContext?]

    init(
        config: CompiledConfig, upstreams: [UpstreamRuntime], providers: [ProviderRuntime],
        tokenCaches: [VerifiedTokenCache], telemetry: WorkerTelemetry, processTelemetry: Telemetry,
        listenerTLS: [TLSServerContext?], upstreamTLS: [TLSClientContext?]
    ) {
        precondition(listenerTLS.count == config.listeners.count, "one TLS slot per listener")
        precondition(upstreamTLS.count == config.upstreamNames.count, "one TLS slot per upstream")
        self.upstreamTLS = upstreamTLS
        precondition(tokenCaches.count == providers.count, "one token cache per provider")
        self.config = config
        self.upstreams = upstreams
        self.providers = providers
        self.tokenCaches = tokenCaches
        self.telemetry = telemetry
        self.processTelemetry = processTelemetry
        self.listenerTLS = listenerTLS
    }

    /// The same config and telemetry with other upstream runtimes (a DNS change): indexes stay valid because
    /// the config is the same object.
    func replacing(upstreams: [UpstreamRuntime]) -> WorkerGeneration {
        WorkerGeneration(
            config: config, upstreams: upstreams, providers: providers, tokenCaches: tokenCaches,
            telemetry: telemetry, processTelemetry: processTelemetry, listenerTLS: listenerTLS,
            upstreamTLS: upstreamTLS)
    }

    /// Caches for `providers`, reusing this generation's cache of every provider object it already has.
    func caches(for providers: [ProviderRuntime]) -> [VerifiedTokenCache] {
        providers.map { provider in
            self.providers.firstIndex { $0 === provider }.map { tokenCaches[$0] } ?? VerifiedTokenCache()
        }
    }
}

/// One listener as one generation sees it: its compiled routes, its index in that config (telemetry labels)
/// and the generation those routes index into. Immutable; a `Listener` swaps its binding on reload.
final class ListenerBinding {
    let generation: WorkerGeneration
    let config: CompiledListener
    /// Index of the listener in `generation.config.listeners` (metrics labels of `generation.telemetry`).
    let listenerIndex: Int
    /// The listener's TLS context in this generation; nil: plaintext.
    var tls: TLSServerContext? { generation.listenerTLS[listenerIndex] }

    init(generation: WorkerGeneration, config: CompiledListener, listenerIndex: Int) {
        precondition(generation.config.listeners[listenerIndex] === config, "a binding's listener is its config's")
        self.generation = generation
        self.config = config
        self.listenerIndex = listenerIndex
    }
}
