import MeshConfig
import MeshControl
import MeshMetrics
import MeshSync

/// The ACME clients of the running config, one per listener with `tls.acme` (SPEC §12). Reconciled on every
/// certificate load (start, reload): a listener whose `acme` settings are unchanged keeps its client; new ones
/// start, removed or changed ones stop. One per process (the gateway is one per process).
final class ACMEService: @unchecked Sendable {
    static let shared = ACMEService()

    private let clients = Locked<[String: ACMEListenerClient]>([:])

    /// Starts and stops clients to match `config`. Cheap and non-blocking: called with the reload lock held.
    func reconcile(_ config: GatewayConfig, gateway: Gateway, telemetry: @escaping @Sendable (String, Bool) -> Void) {
        let wanted = Dictionary(
            config.listeners.compactMap { listener in listener.tls?.acme.map { (listener.name, $0) } },
            uniquingKeysWith: { first, _ in first })
        var started: [ACMEListenerClient] = []
        clients.withLock { clients in
            for (name, client) in clients where wanted[name] != client.settings {
                client.stop()
                clients[name] = nil
            }
            for (name, settings) in wanted where clients[name] == nil {
                let alpn = settings.challenge == "tls-alpn-01" ? gateway.listenerTLS.acmeChallenges(for: name) : nil
                let client = ACMEListenerClient(
                    listener: name, settings: settings, alpn: alpn,
                    issued: { [weak gateway] in _ = gateway?.reload(.file) },
                    counted: { success in telemetry(name, success) },
                    serving: { [weak gateway] in gateway?.isReady ?? false })
                clients[name] = client
                started.append(client)
            }
        }
        for client in started { client.start() }
    }

    /// Stops every client (shutdown).
    func stopAll() {
        clients.withLock { clients in
            for client in clients.values { client.stop() }
            clients = [:]
        }
    }
}

extension GatewayMetrics {
    /// `meshgate_acme_orders_total{listener,result}`, result `success|failure`: each ACME order a listener's
    /// client ran to its end (SPEC §12).
    static let acmeOrders = CounterFamily(
        "meshgate_acme_orders_total", help: "ACME certificate orders by listener and result (success, failure).",
        labelNames: ["listener", "result"])
}

extension Telemetry {
    /// Counts one finished ACME order. Any thread.
    func acmeOrderFinished(listener: String, success: Bool) {
        counters.add(ProcessCounters.key(GatewayMetrics.acmeOrders.name, listener, success ? "success" : "failure"))
    }
}

extension Gateway {
    /// Starts and stops the ACME clients of `config` (called where certificates load: start and reload).
    func reconcileACME(_ config: GatewayConfig) {
        ACMEService.shared.reconcile(config, gateway: self) { [weak self] listener, success in
            self?.current.telemetry.acmeOrderFinished(listener: listener, success: success)
        }
    }
}
