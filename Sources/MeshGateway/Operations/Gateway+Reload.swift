import Dispatch
import Glibc
import MeshConfig
import MeshControl
import MeshPosix
import MeshProxy

extension Gateway {
    /// How long a reload waits for the workers to swap in the new config.
    static let applyWaitMs = 2000

    /// What started a reload; a file event whose bytes did not change is no reload at all.
    public enum ReloadTrigger: String, Sendable {
        case signal = "SIGHUP"
        case admin = "POST /reload"
        case file = "file change"
    }

    /// Loads, validates and applies the config file (SPEC §7). An invalid file changes nothing: the old
    /// config keeps serving, the errors are logged, counted and kept for `/config`.
    ///
    /// Safe from any thread; reloads are serialized.
    @discardableResult
    public func reload(_ trigger: ReloadTrigger) -> (ok: Bool, errors: [String]) {
        // systemd (SPEC §12): SIGHUP and POST /reload always answer RELOADING=1 then READY=1 (`Type=notify-reload`
        // waits for both after its SIGHUP, also when the file is invalid); a file event only when it applies.
        if trigger != .file { systemd?.reloading() }
        let result = reloadLocked(trigger)
        if trigger != .file { systemd?.ready(status: SystemdNotify.status(afterReload: result.errors)) }
        return result
    }

    private func reloadLocked(_ trigger: ReloadTrigger) -> (ok: Bool, errors: [String]) {
        state.withLock { slot in
            guard var state = slot else { return (false, ["the gateway is not running yet"]) }
            defer { slot = state }
            let loaded: (GatewayConfig, [UInt8])
            switch Gateway.readConfig(options.configPath) {
            case .success(let value): loaded = value
            case .failure(let errors):
                return rejected(errors.errors.map(\.description), trigger: trigger, state: &state)
            }
            // A file event is a reload only when the config or one of its certificate files changed.
            if trigger == .file && loaded.1 == state.fileBytes && !listenerTLS.filesChanged(state.config) {
                // Back to the running config's bytes (a bad edit reverted): its errors are history.
                state.lastErrors = []
                return (true, [])
            }
            // The admin listener is bound once, at start: a reload that moves it would be shown on /config and
            // never applied, so it is refused (issue 15), naming what to do.
            let running = state.config.source.admin.address.map(\.description) ?? "null"
            let wanted = loaded.0.admin.address.map(\.description) ?? "null"
            if running != wanted {
                let message =
                    "admin.address: the admin listener stays on \(running) until meshgate restarts (a reload cannot "
                    + "move it); restore \(running) or restart to use \(wanted)"
                return rejected([message], trigger: trigger, state: &state)
            }
            if trigger == .file { systemd?.reloading() }
            defer { if trigger == .file { systemd?.ready(status: SystemdNotify.status(afterReload: state.lastErrors)) } }
            do {
                try apply(loaded.0, bytes: loaded.1, state: &state)
            } catch let error as ListenerTLSStore.Failure {
                return rejected(error.errors, trigger: trigger, state: &state)
            } catch {
                return rejected(["\(error)"], trigger: trigger, state: &state)
            }
            state.lastErrors = []
            state.telemetry.configReloaded(success: true, generation: state.config.generation)
            EventLog.info(
                "config reloaded",
                [
                    "trigger": trigger.rawValue, "generation": "\(state.config.generation)",
                    "listeners": state.listenerKeys.joined(separator: ","),
                ])
            return (true, [])
        }
    }

    private func rejected(_ errors: [String], trigger: ReloadTrigger, state: inout State) -> (
        ok: Bool, errors: [String]
    ) {
        state.lastErrors = errors
        state.telemetry.configReloaded(success: false, generation: state.config.generation)
        for error in errors {
            EventLog.error(
                "config reload rejected; the running config stays",
                [
                    "trigger": trigger.rawValue, "error": error,
                ])
        }
        return (false, errors)
    }

    /// Swaps in a validated config: binds added listeners first (a failure leaves everything as it was),
    /// then hands each worker its new snapshot on its own thread.
    private func apply(_ config: GatewayConfig, bytes: [UInt8], state: inout State) throws {
        let compiled = CompiledConfig(config, generation: state.config.generation + 1, registry: rateLimits)
        let addresses = Gateway.resolve(compiled)
        // Certificates load before anything binds: a listener without a usable pair refuses the whole reload.
        let tls = try loadCertificates(compiled, telemetry: state.telemetry)
        let keys = compiled.listeners.map(Gateway.key)
        let kept = Set(keys).intersection(state.listenerKeys)
        let added = compiled.listeners.filter { !kept.contains(Gateway.key($0)) }
        let sockets = try bindListeners(added, reserved: [])
        let states = endpointRegistry.states(for: config)
        control.reconfigure(config: config, endpoints: states)
        logProviderProblems()
        let providers = compiled.providerNames.compactMap { control.providers.runtime(named: $0) }
        // The generation before the one being replaced stopped receiving records long ago (every worker applied
        // the last update): freeze its counts, so reloads never chain registries (memory and scrape time grew
        // with every reload).
        state.telemetry.detachPrevious()
        let telemetry = Telemetry(
            config: compiled, workers: workerCount, endpoints: states, previous: state.telemetry,
            levelOverride: options.logLevel)
        let applied = DispatchSemaphore(value: 0)
        for worker in workers {
            let update = Worker.ConfigUpdate(
                config: compiled, addresses: addresses, states: states, providers: providers,
                telemetry: telemetry, listenerTLS: tls.listeners, upstreamTLS: tls.upstreams,
                added: zip(sockets[worker.index], added).map { (fd: $0, key: Gateway.key($1)) })
            worker.loop.execute {
                worker.apply(update)
                applied.signal()
            }
        }
        // Wait (bounded) until every worker runs the new config: the sockets of removed listeners are closed
        // then, so the next reload can bind the same address again, and a 200 from `POST /reload` means the
        // config is in force. A worker whose loop has stopped (drain) never answers; the bound covers it.
        let deadline = DispatchTime.now() + .milliseconds(Gateway.applyWaitMs)
        for _ in workers where applied.wait(timeout: deadline) == .timedOut { break }
        updateWatcher(config)
        state.config = compiled
        compiled.retainLimits(in: rateLimits)
        state.listenerKeys = keys
        state.telemetry = telemetry
        state.fileBytes = bytes
        EventLog.route(to: telemetry)
    }
}
