import MeshConfig
import MeshJSON
import MeshPosix

extension Gateway {
    /// Starts the admin listener (SPEC §6) when the config has one; its hooks read the state in force.
    func startAdmin(_ config: GatewayConfig) throws(SystemError) -> AdminServer? {
        guard let configured = config.admin.address else { return nil }
        guard let address = try SocketAddress.resolve(host: configured.host, port: configured.port).first else {
            throw SystemError(errno: 99, call: "resolve admin address \(configured)")
        }
        let hooks = AdminHooks(
            metrics: { [unowned self] in current.telemetry.metricsText() },
            config: { [unowned self] in configDocument() },
            upstreams: { [unowned self] in current.telemetry.upstreamsJSON() },
            ready: { [unowned self] in isReady },
            reload: { [unowned self] in reload(.admin) })
        let server: AdminServer
        do {
            if let fd = try inherited.take(address, count: 1).first {
                server = try AdminServer(listeningFD: fd, hooks: hooks)
            } else {
                server = try AdminServer(address: address, hooks: hooks)
            }
        } catch {
            throw SystemError(errno: error.errno, call: "admin listener on \(configured)")
        }
        server.start()
        return server
    }

    /// `GET /config`: `{"generation":N,"reload_errors":[...],"tls_errors":{...},"config":{...}}`, the effective
    /// config with secrets redacted, the errors of the last rejected reload (empty after a good one), and per
    /// listener the error that made it keep its previous certificates (SPEC §9; empty when every pair loaded).
    func configDocument() -> String {
        let state = current
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("generation")
        writer.number(state.config.generation)
        writer.key("reload_errors")
        writer.beginArray()
        for error in state.lastErrors { writer.string(error) }
        writer.endArray()
        writer.key("tls_errors")
        writer.beginObject()
        for (listener, error) in listenerTLS.problemsByListener {
            writer.key(listener)
            writer.string(error)
        }
        writer.endObject()
        writer.key("config")
        writer.raw(ConfigLoader.render(state.config.source))
        writer.endObject()
        return writer.text
    }
}
