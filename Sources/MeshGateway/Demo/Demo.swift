import CLinux
import Glibc
import MeshConfig
import MeshPosix

/// `meshgate demo` (SPEC §2): starts the three backends and the gateway on `./routes.json`, prints a curl
/// walkthrough, and on Ctrl-C/SIGTERM stops everything (gateway first, then the backends) and exits 0.
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

    /// Runs the demo with the gateway config at `configPath`; returns the exit code (0 after a clean stop,
    /// 1 when something could not start, with the failing service and its log named).
    public static func run(configPath: String) -> Int32 {
        let config: GatewayConfig
        switch ConfigLoader.load(path: configPath) {
        case .success(let loaded): config = loaded
        case .failure(let errors):
            for error in errors.errors { Console.error("\(error.description)\n") }
            Console.error("meshgate demo: \(configPath) is not a valid configuration\n")
            return Gateway.ExitCode.invalidConfig.rawValue
        }
        guard let directory = DemoFiles.executableDirectory(), DemoFiles.makeDirectories(logDirectory) else {
            Console.error("meshgate demo: cannot create \(logDirectory)\n")
            return 1
        }
        guard DemoBuild.ensure(backends.map(\.binary), in: directory) else { return 1 }
        blockSignals()
        var supervisor = DemoSupervisor()
        do {
            try start(config: config, configPath: configPath, binaries: directory, supervisor: &supervisor)
        } catch {
            Console.error("meshgate demo: \(error.description)\n")
            supervisor.stopAll(timeoutMs: stopTimeoutMs)
            return 1
        }
        printWalkthrough(config)
        let failed = supervisor.waitForSignalOrExit()
        if let failed {
            Console.error(
                "meshgate demo: \(failed.name) exited (status \(failed.exitStatus ?? -1)); "
                    + "see \(failed.logPath):\n\(failed.logTail())\n"
            )
        } else {
            say("\nstopping…")
        }
        supervisor.stopAll(timeoutMs: stopTimeoutMs)
        if failed == nil { say("stopped; data kept in \(dataDirectory)/, logs in \(logDirectory)/") }
        return failed == nil ? 0 : 1
    }

    /// Starts each backend and waits for its `/healthz`, then the gateway and waits for its first listener.
    static func start(
        config: GatewayConfig,
        configPath: String,
        binaries: String,
        supervisor: inout DemoSupervisor
    ) throws(SystemErrorText) {
        for backend in backends {
            let address = config.upstreams[backend.upstream]?.endpoints.first ?? backend.fallback
            let path = "\(binaries)/\(backend.binary)"
            guard access(path, X_OK) == 0 else {
                throw SystemErrorText(
                    "\(path) not found: build it first with `swift build` (it is a product of "
                        + "this package, built next to meshgate)"
                )
            }
            let log = "\(logDirectory)/\(backend.binary).log"
            let child = try ChildProcess.spawn(
                name: backend.binary,
                arguments: [path, "--listen", address.description, "--data-dir", "\(dataDirectory)/\(backend.binary)"],
                logPath: log
            )
            supervisor.children.append(child)
            try supervisor.waitReady(
                child,
                host: address.host,
                port: address.port,
                path: "/healthz",
                timeoutMs: startTimeoutMs
            )
            say("started \(backend.binary) on \(address) (pid \(child.pid), log \(log))")
        }
        let log = "\(logDirectory)/gateway.log"
        let gateway = try ChildProcess.spawn(
            name: "meshgate",
            arguments: ["\(binaries)/meshgate", "run", "--config", configPath],
            logPath: log
        )
        supervisor.children.append(gateway)
        if let edge = config.listeners.first?.address {
            try supervisor.waitReady(gateway, host: edge.host, port: edge.port, path: nil, timeoutMs: startTimeoutMs)
        }
        say("started meshgate with \(configPath) (pid \(gateway.pid), log \(log))")
    }

    /// The demo collects SIGTERM/SIGINT/SIGCHLD with `sigtimedwait`; children get a clean mask at spawn.
    static func blockSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in [SIGTERM, SIGINT, SIGCHLD] { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        Posix.ignoreSIGPIPE()
    }

    static func printWalkthrough(_ config: GatewayConfig) {
        let edge = config.listeners.first.map { "http://\($0.address)" } ?? "http://127.0.0.1:8080"
        let admin = config.admin.address.map { "http://\($0)" }
        let profile = config.upstreams["profile"]?.endpoints.first.map { "http://\($0)" }
        say(DemoWalkthrough.text(edge: edge, admin: admin, profile: profile, logs: logDirectory))
    }

    /// Writes a line to stdout at once (no stdio buffering: the demo's output may be a pipe or a file).
    static func say(_ text: String) {
        Console.write(text + "\n", to: 1)
    }
}
