import MeshProxy
import MeshTLS

extension Gateway {
    /// Loads the certificates of every TLS listener of `compiled` (start, reload, file change) and logs and
    /// counts each listener's outcome; throws when a listener has no usable pair at all.
    func loadCertificates(_ compiled: CompiledConfig, telemetry: Telemetry) throws(ListenerTLSStore.Failure)
        -> [TLSServerContext?]
    {
        let built = try listenerTLS.build(compiled, nowSeconds: ListenerTLSStore.wallClockSeconds())
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
        return built.contexts
    }
}
