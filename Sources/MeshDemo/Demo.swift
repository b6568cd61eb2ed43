import CLinux
import Glibc
import MeshConfig
import MeshPosix

/// `meshgate demo` (SPEC §2): starts the three backends and the gateway on `./routes.json`, prints a curl
/// walkthrough, and on Ctrl-C/SIGTERM/SIGHUP stops everything (gateway first, then the backends) and exits 0.
///
/// Every port is checked free before anything starts. A backend that exits is reported with the command that
/// starts it again, and the gateway keeps serving (breakers, fallbacks); the gateway exiting ends the demo.
/// Children die with the demo even when it is killed (`DemoExecShim`).
///
/// Everything runs as child processes of this one: the backends from their binaries next to `meshgate`
/// (`/proc/self/exe`'s directory, where `swift build` puts every product), the gateway as `meshgate run`.
/// Data lives under `./.meshgate-data/<service>`, output under `./.meshgate-data/logs/`. The backends listen
/// where the config's `auth`, `profile` and `relationships` upstreams point (defaults 127.0.0.1:9101–9103).
public enum Demo {
    static let dataDirectory = ".meshgate-data"
    static let logDirectory = dataDirectory + "/logs"
    /// Bound on each readiness wait and on each stop.
    static let startTimeoutMs = 15_000
    static let stopTimeoutMs = 5_000

    /// One backend: binary name, the upstream that routes to it, its default address.
    struct Backend {
        let binary: String
        let upstream: String
        let fallback: HostPort
    }

    static let backends = [
        Backend(binary: "auth-service", upstream: "auth", fallback: HostPort(host: "127.0.0.1", port: 9101)),
        Backend(binary: "profile-service", upstream: "profile", fallback: HostPort(host: "127.0.0.1", port: 9102)),
        Backend(
            binary: "relationship-service",
            upstream: "relationships",
            fallback: HostPort(host: "127.0.0.1", port: 9103)
        ),
    ]

    /// Runs the demo with the gateway config at `configPath`; returns the exit code: 0 after a stop by signal,
    /// 1 when something could not start (the failing service and its log named, or the port that is taken) or
    /// when the gateway exited on its own. A backend that exits is reported and the demo goes on.
    public static func run(configPath: String, httpsPort: UInt16 = DemoHTTPS.defaultPort) -> Int32 {
        // A child on its way to exec (see DemoExecShim): it never gets past this line on success.
        if let code = DemoExecShim.execIfRequested() { return code }
        guard let config = loadConfig(configPath) else { return 1 }  // SPEC §2: an invalid configuration
        guard let binaries = DemoFiles.executableDirectory(), let shim = DemoFiles.executablePath(),
            let directory = DemoFiles.currentDirectory(), DemoFiles.makeDirectories(logDirectory)
        else {
            Console.error("meshgate demo: cannot create \(logDirectory)\n")
            return 1
        }
        guard DemoBuild.ensure(backends.map(\.binary), in: binaries) else { return 1 }
        let sidecar: DemoSidecar?
        switch DemoSidecar.load(beside: configPath) {
        case .success(let loaded): sidecar = loaded
        case .failure(let error):
            Console.error("meshgate demo: \(error.description)\n")
            return 1
        }
        let https = DemoHTTPS.on(port: httpsPort)
        let needs = portNeeds(config, https: https) + (sidecar?.portNeeds ?? [])
        if let problem = DemoPorts.problem(needs, configPath: configPath) {
            Console.error("meshgate demo: \(problem)\n")
            return 1
        }
        var supervisor = DemoSupervisor(stopSignals: blockSignals(), directory: directory)
        do {
            try start(
                config: config, configPath: configPath, sidecar: sidecar, binaries: binaries, shim: shim,
                supervisor: &supervisor)
            if let https, let edge = config.listeners.first?.address {
                try https.start(edge: edge, binaries: binaries, shim: shim, supervisor: &supervisor)
            }
        } catch {
            Console.error("meshgate demo: \(error.description)\n")
            supervisor.stopAll(timeoutMs: stopTimeoutMs)
            return 1
        }
        printWalkthrough(config, https: https)
        return watch(&supervisor)
    }

    /// Waits for a stop signal or the gateway's exit; the demo's exit code.
    private static func watch(_ supervisor: inout DemoSupervisor) -> Int32 {
        switch supervisor.watch() {
        case .signal(let signal):
            say("\nstopping… (\(ChildProcess.signalName(signal)))")
            supervisor.stopAll(timeoutMs: stopTimeoutMs)
            say("stopped; data kept in \(dataDirectory)/, logs in \(logDirectory)/")
            return 0
        case .gatewayExited(let gateway):
            Console.error(
                "meshgate demo: the gateway (meshgate, pid \(gateway.pid)) exited (\(gateway.endedHow ?? "?")); "
                    + "nothing is reachable without it, stopping the backends; see \(gateway.logPath):\n"
                    + "\(gateway.logTail())\n"
            )
            supervisor.stopAll(timeoutMs: stopTimeoutMs)
            return 1
        }
    }

    private static func loadConfig(_ configPath: String) -> GatewayConfig? {
        switch ConfigLoader.load(path: configPath) {
        case .success(let loaded):
            return loaded
        case .failure(let errors):
            for error in errors.errors { Console.error("\(error.description)\n") }
            Console.error("meshgate demo: \(configPath) is not a valid configuration\n")
            return nil
        }
    }

    /// Where each backend listens: the first endpoint of its upstream in the config, else its default.
    static func address(of backend: Backend, in config: GatewayConfig) -> HostPort {
        config.upstreams[backend.upstream]?.endpoints.first ?? backend.fallback
    }

    /// Every address the demo's processes will bind, in start order, for the check before anything starts.
    static func portNeeds(_ config: GatewayConfig, https: DemoHTTPS?) -> [DemoPorts.Need] {
        var needs = backends.map { DemoPorts.Need(address: address(of: $0, in: config), purpose: $0.binary) }
        for listener in config.listeners {
            let purpose = "the gateway's listener '\(listener.name)'"
            needs.append(DemoPorts.Need(address: listener.address, purpose: purpose))
        }
        if let admin = config.admin.address {
            needs.append(DemoPorts.Need(address: admin, purpose: "the gateway's admin listener"))
        }
        if let https { needs.append(DemoPorts.Need(address: https.address, purpose: "the demo's HTTPS listener")) }
        return needs
    }

    /// Starts each backend and waits for its `/healthz` (relationship-service under its sidecar when there is
    /// one), then the gateway and waits for its first listener.
    static func start(
        config: GatewayConfig,
        configPath: String,
        sidecar: DemoSidecar?,
        binaries: String,
        shim: String,
        supervisor: inout DemoSupervisor
    ) throws(SystemErrorText) {
        for backend in backends {
            let address = address(of: backend, in: config)
            let path = "\(binaries)/\(backend.binary)"
            guard access(path, X_OK) == 0 else {
                throw SystemErrorText(
                    "\(path) not found: build it first with `swift build` (it is a product of "
                        + "this package, built next to meshgate)"
                )
            }
            let log = "\(logDirectory)/\(backend.binary).log"
            var arguments = [path, "--listen", address.description, "--data-dir", "\(dataDirectory)/\(backend.binary)"]
            var how = ""
            if let sidecar, backend.binary == DemoSidecar.app {
                // Its output and the sidecar's go to one log: the sidecar's child inherits its stdout.
                arguments = sidecar.command(meshgate: "\(binaries)/meshgate", appArguments: arguments)
                how =
                    ", as the app of its meshgate sidecar (\(sidecar.path); gRPC to profile-service through "
                    + "\(sidecar.grpcAddress))"
            }
            let child = try ChildProcess.spawn(name: backend.binary, arguments: arguments, logPath: log, shim: shim)
            // For the walkthrough's `kill $(cat …)` (a name-based pkill could hit another stack's process).
            _ = DemoFiles.write("\(logDirectory)/\(backend.binary).pid", "\(child.pid)\n")
            supervisor.add(backend: child, address: address)
            try supervisor.waitReady(
                child,
                host: address.host,
                port: address.port,
                path: "/healthz",
                timeoutMs: startTimeoutMs
            )
            say("started \(backend.binary) on \(address) (pid \(child.pid), log \(log))\(how)")
        }
        let log = "\(logDirectory)/gateway.log"
        let gateway = try ChildProcess.spawn(
            name: "meshgate",
            arguments: ["\(binaries)/meshgate", "run", "--config", configPath],
            logPath: log,
            shim: shim
        )
        supervisor.add(gateway: gateway)
        if let edge = config.listeners.first?.address {
            try supervisor.waitReady(gateway, host: edge.host, port: edge.port, path: nil, timeoutMs: startTimeoutMs)
        }
        say("started meshgate with \(configPath) (pid \(gateway.pid), log \(log))")
    }

    /// Blocks the stop signals and SIGCHLD (the supervisor takes them with `sigtimedwait`; children get a clean
    /// mask at spawn) and returns the stop signals. Closing the terminal sends SIGHUP, which stops the demo like
    /// Ctrl-C — unless SIGHUP was ignored at start (`nohup meshgate demo`): then the user asked the stack to
    /// outlive the terminal, and it stays ignored.
    static func blockSignals() -> [Int32] {
        var current = sigaction()
        sigaction(SIGHUP, nil, &current)
        let hangUpIgnored =
            unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
        let stops = hangUpIgnored ? [SIGTERM, SIGINT] : [SIGTERM, SIGINT, SIGHUP]
        var set = sigset_t()
        sigemptyset(&set)
        for signal in stops + [SIGCHLD] { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        Posix.ignoreSIGPIPE()
        return stops
    }

    static func printWalkthrough(_ config: GatewayConfig, https: DemoHTTPS?) {
        let edge = config.listeners.first.map { "http://\($0.address)" } ?? "http://127.0.0.1:8080"
        let admin = config.admin.address.map { "http://\($0)" }
        let profile = config.upstreams["profile"]?.endpoints.first.map { "http://\($0)" }
        say(
            DemoWalkthrough.text(
                edge: edge, admin: admin, profile: profile, https: https?.url, certificate: DemoHTTPS.certificate,
                logs: logDirectory))
    }

    /// Writes a line to stdout at once (no stdio buffering: the demo's output may be a pipe or a file).
    static func say(_ text: String) {
        Console.write(text + "\n", to: 1)
    }
}
