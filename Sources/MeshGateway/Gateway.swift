import CLinux
import Glibc
import MeshConfig
import MeshControl
import MeshJWT
import MeshPosix
import MeshProxy
import MeshRateLimit
import MeshSync
import MeshTLS
import Synchronization

/// The running gateway: loads the config, binds every listener once per worker (SO_REUSEPORT), starts the
/// control plane and the workers, then serves signals on the main thread: SIGHUP reloads, SIGTERM/SIGINT
/// drain, SIGCHLD ends sidecar mode when the app exits (SPEC §2, §7).
///
/// Shared by the main thread, the admin thread (`POST /reload`, `/readyz`) and the config watcher: mutable
/// state lives behind `state`'s lock or in atomics.
public final class Gateway: @unchecked Sendable {
    public struct Options: Sendable {
        public var configPath: String
        public var workers: Int
        /// Sidecar mode: the app to start (`-- APP ARGS...`), empty for none.
        public var app: [String]
        /// `--log-level`: wins over `logging.level`.
        public var logLevel: LogLevel?
        public init(configPath: String, workers: Int, app: [String] = [], logLevel: LogLevel? = nil) {
            self.configPath = configPath
            self.workers = workers
            self.app = app
            self.logLevel = logLevel
        }
    }

    /// Exit codes of SPEC §2.
    public enum ExitCode: Int32 {
        case clean = 0
        case invalidConfig = 1
        case usage = 2
        case cannotBind = 3
    }

    /// What a reload changes, guarded by one lock (reloads are rare and serialized).
    struct State {
        var config: CompiledConfig
        /// Listener keys (`name@address`) bound now, in config order.
        var listenerKeys: [String]
        var telemetry: Telemetry
        /// Errors of the last failed reload, shown on `/config`; empty after a good one.
        var lastErrors: [String] = []
        /// The bytes the running config was loaded from (a watcher event with the same bytes is no change).
        var fileBytes: [UInt8]
    }

    let options: Options
    var workers: [Worker] = []
    var threads: [WorkerThread] = []
    let endpointRegistry = EndpointRegistry()
    /// Listener certificates; rebuilt from the files on start and every reload.
    let listenerTLS = ListenerTLSStore()
    /// Rate-limit buckets and upstream in-flight caps, kept across reloads (SPEC §11).
    let rateLimits = RateLimitRegistry()
    var control: ControlPlane!
    let state: Locked<State?> = Locked(nil)
    let draining = Atomic<Bool>(false)
    /// Sidecar: the app answered its health URL (always true without an app or a health URL).
    let appHealthy = Atomic<Bool>(true)
    var sidecar: Sidecar?
    /// The config-file watcher while `watch_config` is on (a reload can switch it).
    let watcherLock = Locked<ConfigWatcher?>(nil)
    var admin: AdminServer?
    /// Sockets from systemd (`LISTEN_FDS`) or from the previous process of a binary upgrade; used by the
    /// listeners whose address they are bound to, the rest closed once started (SPEC §12).
    var inherited = InheritedSockets.none
    /// `NOTIFY_SOCKET`'s notifier and its watchdog; nil when not started by systemd as `Type=notify`.
    var systemd: SystemdNotify?
    var watchdog: SystemdWatchdog?
    /// SIGUSR2's binary upgrade (main thread and the upgrade thread).
    let upgradePhase = Locked(BinaryUpgrade.Phase.idle)
    /// The binary a SIGUSR2 starts, resolved at start (before anything can change the working directory).
    let upgradePath = BinaryUpgrade.executablePath()

    public init(options: Options) { self.options = options }

    var workerCount: Int { max(1, options.workers) }

    /// Runs until drained; returns the process exit code.
    public func run() -> Int32 {
        // First: a SIGHUP or SIGUSR2 (default action: exit) while the config loads must wait, not kill.
        Gateway.blockSignals()
        let config: GatewayConfig
        let bytes: [UInt8]
        switch Gateway.readConfig(options.configPath) {
        case .success(let loaded): (config, bytes) = loaded
        case .failure(let errors):
            for error in errors.errors { EventLog.error("invalid configuration", ["error": error.description]) }
            return ExitCode.invalidConfig.rawValue
        }
        Posix.ignoreSIGPIPE()
        Posix.raiseFileLimit()
        inherited = InheritedSockets.fromEnvironment()
        systemd = SystemdNotify.fromEnvironment()
        // Not ready until the app's health URL answers (set before listeners accept anything).
        if config.app != nil { appHealthy.store(false, ordering: .relaxed) }
        if let failure = start(config, bytes: bytes) {
            // The control thread's callbacks reference this gateway: stop it before the gateway can go away.
            control?.stop()
            return failure.rawValue
        }
        inherited.closeUnclaimed()
        if let app = config.app { AppHealth.start(app, gateway: self) }
        if !options.app.isEmpty {
            sidecar = Sidecar(
                arguments: options.app, startupTimeoutMs: config.app?.startupTimeoutMs ?? 30_000, gateway: self)
            sidecar!.start()
        }
        announceReady()
        let code = serveSignals()
        watcherLock.withLock { $0 }?.stop()
        admin?.stop()
        control.stop()
        let telemetry = current.telemetry
        EventLog.route(to: nil)
        telemetry.stop()
        return code
    }

    /// The config and telemetry in force.
    var current: State { state.withLock { $0! } }

    var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// `/readyz`: listeners bound, keys loaded, (sidecar) app healthy, not draining (SPEC §6).
    public var isReady: Bool {
        !draining.load(ordering: .relaxed) && appHealthy.load(ordering: .relaxed) && (control?.isReady ?? false)
    }

    private func start(_ config: GatewayConfig, bytes: [UInt8]) -> ExitCode? {
        let compiled = CompiledConfig(config, generation: 1, registry: rateLimits)
        let addresses = Gateway.resolve(compiled)
        let states = endpointRegistry.states(for: config)
        let telemetry = Telemetry(
            config: compiled, workers: workerCount, endpoints: states, levelOverride: options.logLevel)
        let tls: TLSContexts
        do {
            tls = try loadCertificates(compiled, telemetry: telemetry)
        } catch {
            EventLog.fatal("cannot load a TLS certificate", ["error": error.description])
            return .invalidConfig
        }
        // In force before the control plane starts: its first JWKS fetch may report before the workers run.
        EventLog.route(to: telemetry)
        state.withLock {
            $0 = State(
                config: compiled, listenerKeys: compiled.listeners.map(Gateway.key), telemetry: telemetry,
                fileBytes: bytes)
        }
        do {
            control = try ControlPlane(config: config, endpoints: states, callbacks: controlCallbacks())
            try control.start()
        } catch {
            EventLog.fatal("cannot start the control plane", ["error": "\(error)"])
            return .cannotBind
        }
        logProviderProblems()
        let sockets: [[Int32]]
        do {
            sockets = try bindListeners(compiled.listeners, reserved: [])
        } catch {
            EventLog.fatal("cannot bind a listener", ["error": "\(error)"])
            return .cannotBind
        }
        if let failure = startWorkers(compiled, addresses: addresses, states: states, telemetry: telemetry,
            tls: tls, sockets: sockets)
        {
            return failure
        }
        for worker in workers {
            threads.append(WorkerThread(name: "meshgate-w\(worker.index)") { worker.run() })
        }
        do {
            admin = try startAdmin(config)
        } catch {
            EventLog.fatal("cannot bind the admin listener", ["error": error.description])
            return .cannotBind
        }
        updateWatcher(config)
        EventLog.info(
            "started",
            [
                "config": options.configPath, "workers": "\(workers.count)", "generation": "1", "pid": "\(getpid())",
                "inherited_sockets": inherited.claimed == 0 ? "none" : "\(inherited.claimed) from \(inherited.source)",
                "listeners": compiled.listeners.map { "\($0.config.name)=\($0.config.address)" }.joined(separator: ","),
            ])
        return nil
    }

    /// Makes one worker per thread on the bound listener sockets, wired to the control plane.
    private func startWorkers(
        _ compiled: CompiledConfig, addresses: [[SocketAddress]], states: [[EndpointState]], telemetry: Telemetry,
        tls: TLSContexts, sockets: [[Int32]]
    ) -> ExitCode? {
        let control = self.control!
        let providers = compiled.providerNames.compactMap { control.providers.runtime(named: $0) }
        for index in 0..<workerCount {
            do {
                let worker = try Worker(
                    index: index, config: compiled, addresses: addresses, states: states, providers: providers,
                    workers: workerCount, telemetry: telemetry, listenerTLS: tls.listeners,
                    upstreamTLS: tls.upstreams)
                worker.resolved = control.addresses
                worker.requestKeyRefetch = { name in control.refetchClaimed(provider: name) }
                control.onKeysFetched { name in worker.loop.execute { worker.keysFetched(name) } }
                try worker.start(listenerSockets: zip(sockets[index], compiled.listeners).map { ($0, $1) })
                workers.append(worker)
            } catch {
                EventLog.fatal("cannot start a worker", ["error": "\(error)"])
                return .cannotBind
            }
        }
        return nil
    }

    /// Control-plane events go to telemetry and the event log of the config in force.
    func controlCallbacks() -> ControlPlane.Callbacks {
        ControlPlane.Callbacks(
            onRefresh: { [unowned self] provider, success, error in
                guard let telemetry = state.withLock({ $0?.telemetry }) else { return }
                if success {
                    telemetry.setJWKSAge(provider: provider, seconds: 0)
                } else {
                    telemetry.jwksRefreshFailed(provider: provider)
                    EventLog.warn(
                        "JWKS refresh failed; keeping the last good keys",
                        [
                            "provider": provider, "error": error ?? "unknown",
                        ])
                }
            },
            onHealthChange: { upstream, endpoint, health in
                EventLog.info(
                    "endpoint health changed",
                    [
                        "upstream": upstream, "endpoint": endpoint.description, "health": health.label,
                    ])
            },
            onResolveFailure: { upstream, endpoint, error in
                EventLog.warn(
                    "DNS refresh failed; keeping the last addresses",
                    [
                        "upstream": upstream, "endpoint": endpoint.description, "error": error,
                    ])
            })
    }

    func logProviderProblems() {
        for provider in control.providers.all {
            for problem in provider.loadErrors {
                EventLog.warn("JWT provider problem", ["provider": provider.name, "error": problem])
            }
        }
    }

    /// A listener's identity across reloads is its address: a renamed listener keeps its socket.
    static func key(_ listener: CompiledListener) -> String { listener.config.address.description }

    /// Reads and validates the config file, keeping its bytes.
    static func readConfig(_ path: String) -> Result<(GatewayConfig, [UInt8]), ConfigErrors> {
        ConfigLoader.loadKeepingBytes(path: path).map { ($0.config, $0.bytes) }
    }

    /// Every endpoint's first address. A name that does not resolve yet (in Kubernetes a Service often resolves
    /// seconds after the pod starts) is not fatal: its endpoint gets `EndpointPool.unresolved`, its requests are
    /// answered 503 without judging it, and the control plane's DNS refresh brings the address in later.
    static func resolve(_ compiled: CompiledConfig) -> [[SocketAddress]] {
        var result: [[SocketAddress]] = []
        for name in compiled.upstreamNames {
            var row: [SocketAddress] = []
            for endpoint in compiled.source.upstreams[name]!.endpoints {
                do throws(SystemError) {
                    guard let first = try SocketAddress.resolve(host: endpoint.host, port: endpoint.port).first else {
                        throw SystemError(errno: EHOSTUNREACH, call: "resolve \(endpoint)")
                    }
                    row.append(first)
                } catch {
                    EventLog.warn(
                        "endpoint does not resolve yet; its requests get 503 until DNS answers",
                        ["upstream": name, "endpoint": endpoint.description, "error": error.description])
                    row.append(EndpointPool.unresolved)
                }
            }
            result.append(row)
        }
        return result
    }
}
