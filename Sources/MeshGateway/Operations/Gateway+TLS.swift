import MeshControl
import MeshProxy
import MeshTLS

extension Gateway {
    /// The TLS contexts of one config: listeners' (`config.listeners` order) and upstreams'
    /// (`config.upstreamNames` order), nil where there is no TLS.
    struct TLSContexts {
        var listeners: [TLSServerContext?]
        var upstreams: [TLSClientContext?]
    }

    /// Loads the certificates of every TLS listener and upstream of `compiled` (start, reload, file change) and
    /// logs and counts each listener's outcome; throws when a listener has no usable pair at all, or an
    /// upstream's CA or client pair cannot be loaded.
    func loadCertificates(_ compiled: CompiledConfig, telemetry: Telemetry) throws(ListenerTLSStore.Failure)
        -> TLSContexts
    {
        let now = ListenerTLSStore.wallClockSeconds()
        let upstreams = try UpstreamTLSContexts.build(compiled.source, nowSeconds: now)
        let built = try listenerTLS.build(compiled, nowSeconds: now)
        reconcileACME(compiled.source)
        for listener in built.acmePlaceholders {
            EventLog.warn(
                "ACME listener serves a self-signed placeholder until its first certificate is issued",
                ["listener": listener])
        }
        for (listener, pairs) in built.loaded {
            telemetry.certificatesLoaded(
                listener: listener, success: true, pairs: pairs.map { ($0.certFile, $0.notAfter) })
        }
        for kept in built.kept {
            telemetry.certificatesLoaded(listener: kept.listener, success: false, pairs: [])
            EventLog.error(
                "TLS certificate reload failed; the listener keeps its previous certificate",
                ["listener": kept.listener, "error": kept.error])
        }
        return TLSContexts(listeners: built.contexts, upstreams: upstreams)
    }
}
