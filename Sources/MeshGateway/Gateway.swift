import CLinux
import Glibc
import MeshConfig
import MeshJWT
import MeshPosix
import MeshProxy

/// The running gateway: loads the config, binds every listener once per worker (SO_REUSEPORT), starts the
/// workers and waits for signals on the main thread.
public final class Gateway {
    public struct Options: Sendable {
        public var configPath: String
        public var workers: Int
        public init(configPath: String, workers: Int) {
            self.configPath = configPath
            self.workers = workers
        }
    }

    /// Exit codes of SPEC §2.
    public enum ExitCode: Int32 {
        case clean = 0
        case invalidConfig = 1
        case usage = 2
        case cannotBind = 3
    }

    private let options: Options
    private var workers: [Worker] = []
    private var threads: [WorkerThread] = []
    let endpointRegistry = EndpointRegistry()
    private var telemetry: Telemetry!
    private var control: ControlPlane?

    public init(options: Options) { self.options = options }

    /// Runs until SIGTERM/SIGINT; returns the process exit code.
    public func run() -> ExitCode {
        let config: GatewayConfig
        switch ConfigLoader.load(path: options.configPath) {
        case .success(let loaded): config = loaded
        case .failure(let errors):
            for error in errors.errors { EventLog.error("invalid configuration", ["error": error.description]) }
            return .invalidConfig
        }
        let compiled = CompiledConfig(config, generation: 1)
        telemetry = Telemetry(config: compiled, workers: max(1, options.workers))
        let addresses: [[SocketAddress]]
        do {
            addresses = try Gateway.resolve(compiled)
        } catch {
            EventLog.error("cannot resolve an endpoint", ["error": error.description])
            return .invalidConfig
        }
        Posix.ignoreSIGPIPE()
        Posix.raiseFileLimit()
        Gateway.blockSignals()
        let control: ControlPlane
        do {
            control = try ControlPlane(config: config, endpoints: endpointRegistry.states(for: config))
            try control.start()
        } catch {
            EventLog.error("cannot start the control plane", ["error": "\(error)"])
            return .cannotBind
        }
        self.control = control
        for provider in control.providers.all {
            for problem in provider.loadErrors {
                EventLog.warn("JWT provider problem", ["provider": provider.name, "error": problem])
            }
        }
        if let failure = startWorkers(compiled, addresses: addresses, control: control) { return failure }
        EventLog.info("started", [
            "config": options.configPath, "workers": "\(workers.count)",
            "listeners": compiled.listeners.map { "\($0.config.name)=\($0.config.address)" }.joined(separator: ","),
        ])
        waitForTermination()
        EventLog.info("stopping", [:])
        for worker in workers { worker.loop.stop() }
        for thread in threads { thread.join() }
        control.stop()
        return .clean
    }

    private func startWorkers(_ compiled: CompiledConfig, addresses: [[SocketAddress]], control: ControlPlane)
        -> ExitCode?
    {
        let providers = compiled.providerNames.compactMap { control.providers.runtime(named: $0) }
        for index in 0..<max(1, options.workers) {
            do {
                let worker = try Worker(
                    index: index, config: compiled, addresses: addresses,
                    states: endpointRegistry.states(for: compiled.source), workers: options.workers,
                    telemetry: telemetry.worker(index))
                var sockets: [(fd: Int32, listener: CompiledListener)] = []
                for listener in compiled.listeners {
                    let fd = try bind(listener)
                    sockets.append((fd, listener))
                }
                worker.providers = providers
                worker.tokenCaches = providers.map { _ in VerifiedTokenCache() }
                worker.requestKeyRefetch = { name in control.requestRefetch(provider: name) }
                try worker.start(listenerSockets: sockets)
                workers.append(worker)
            } catch {
                EventLog.error("cannot bind a listener", ["error": "\(error)"])
                return .cannotBind
            }
        }
        for worker in workers {
            threads.append(WorkerThread(name: "meshgate-w\(worker.index)") { worker.run() })
        }
        return nil
    }

    private func bind(_ listener: CompiledListener) throws(SystemError) -> Int32 {
        let configured = listener.config.address
        guard let address = try SocketAddress.resolve(host: configured.host, port: configured.port).first else {
            throw SystemError(errno: EADDRNOTAVAIL, call: "resolve \(configured)")
        }
        do {
            // SO_REUSEPORT would let a second meshgate share the port silently: probe without it first.
            if workers.isEmpty { Posix.close(try Sockets.listener(address, reusePort: false, backlog: 1)) }
            return try Sockets.listener(address, reusePort: true)
        } catch {
            throw SystemError(errno: error.errno, call: "listen on \(configured) (listener \(listener.config.name))")
        }
    }

    static func resolve(_ compiled: CompiledConfig) throws(SystemError) -> [[SocketAddress]] {
        var result: [[SocketAddress]] = []
        for name in compiled.upstreamNames {
            var row: [SocketAddress] = []
            for endpoint in compiled.source.upstreams[name]!.endpoints {
                guard let first = try SocketAddress.resolve(host: endpoint.host, port: endpoint.port).first else {
                    throw SystemError(errno: EHOSTUNREACH, call: "resolve \(endpoint) (upstream \(name))")
                }
                row.append(first)
            }
            result.append(row)
        }
        return result
    }

    // MARK: - Signals

    /// Blocks the termination and reload signals in every thread (workers inherit the mask), so only
    /// `sigwait` on the main thread sees them.
    static func blockSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    private func waitForTermination() {
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&set, s) }
        while true {
            var signal: Int32 = 0
            guard sigwait(&set, &signal) == 0 else { continue }
            if signal == SIGHUP {
                EventLog.warn("reload requested; hot reload is not built yet, keeping the running config", [:])
                continue
            }
            return
        }
    }
}
