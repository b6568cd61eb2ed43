import CLinux
import Glibc
import MeshDemo
import MeshConfig
import MeshControl
import MeshPosix

/// SPEC §2's command line: parses arguments, runs the command, returns the exit code.
public enum CommandLineInterface {
    public static let version = "0.1.0"

    static let usage = """
        usage: meshgate [run] [--config PATH] [--workers N] [--log-level LEVEL] [-- APP ARGS...]
               meshgate check [--config PATH | PATH]   validate only; print every error; exit 0 or 1
               meshgate demo [--https-port 8443]       start the three backends and the gateway with ./routes.json,
                                                       and an HTTPS listener (certificate made at start; 0: none)
               meshgate version | --version            print the version
               meshgate help | --help                  print this text
        The config defaults to $MESHGATE_CONFIG, else ./routes.json.
        """

    struct Arguments {
        var command = "run"
        var configPath: String
        var workers = Posix.onlineCPUs
        var logLevel: String?
        var app: [String] = []
        /// `demo --https-port`: where the demo's HTTPS listener goes (0: none).
        var httpsPort = DemoHTTPS.defaultPort
    }

    public static func main(_ argv: [String]) -> Int32 {
        let arguments: Arguments
        switch parse(argv) {
        case .success(let parsed): arguments = parsed
        case .failure(let message):
            Console.error("meshgate: \(message.text)\n\(usage)\n")
            return Gateway.ExitCode.usage.rawValue
        }
        switch arguments.command {
        case "help":
            // Asked for: stdout and success, like every Unix tool (errors print usage to stderr and exit 2).
            Console.write(usage + "\n", to: 1)
            return 0
        case "version":
            print("meshgate \(version) (commit \(String(cString: clinux_build_commit())))")
            return 0
        case "check":
            return check(arguments.configPath)
        case "demo": return Demo.run(configPath: arguments.configPath, httpsPort: arguments.httpsPort)
        case "run":
            let level = arguments.logLevel.flatMap(LogLevel.init(rawValue:))
            if let given = arguments.logLevel, level == nil {
                Console.error("meshgate: --log-level wants debug, info, warn or error, got '\(given)'\n\(usage)\n")
                return Gateway.ExitCode.usage.rawValue
            }
            let gateway = Gateway(
                options: .init(
                    configPath: arguments.configPath, workers: arguments.workers, app: arguments.app, logLevel: level))
            return gateway.run()
        default:
            Console.error("meshgate: '\(arguments.command)' is not built yet\n")
            return Gateway.ExitCode.usage.rawValue
        }
    }

    struct UsageError: Error {
        let text: String
    }

    static func parse(_ argv: [String]) -> Result<Arguments, UsageError> {
        let environment = getenv("MESHGATE_CONFIG").map { String(cString: $0) }
        var arguments = Arguments(configPath: environment ?? "./routes.json")
        var rest = argv[...]
        if let first = rest.first, ["run", "check", "demo", "version", "help"].contains(first) {
            arguments.command = first
            rest = rest.dropFirst()
        }
        // `meshgate check routes.json`, as well as `check --config routes.json`.
        if arguments.command == "check", let path = rest.first, !path.hasPrefix("-") {
            arguments.configPath = path
            rest = rest.dropFirst()
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--":
                arguments.app = Array(rest)
                rest = []
            case "--config", "--workers", "--log-level":
                guard let value = rest.popFirst() else { return .failure(UsageError(text: "\(flag) needs a value")) }
                if flag == "--config" { arguments.configPath = value }
                if flag == "--log-level" { arguments.logLevel = value }
                if flag == "--workers" {
                    guard let n = Int(value), n > 0, n <= 1024 else {
                        return .failure(UsageError(text: "--workers wants a number from 1 to 1024, got '\(value)'"))
                    }
                    arguments.workers = n
                }
            case "--https-port" where arguments.command == "demo":
                guard let value = rest.popFirst(), let port = UInt16(value) else {
                    return .failure(UsageError(text: "--https-port wants a port number (0: no HTTPS listener)"))
                }
                arguments.httpsPort = port
            case "-h", "--help":
                arguments.command = "help"
                return .success(arguments)
            case "--version":
                arguments.command = "version"
                return .success(arguments)
            default:
                return .failure(UsageError(text: "unknown argument '\(flag)'"))
            }
        }
        return .success(arguments)
    }

    /// "1 listener", "2 listeners".
    static func counted(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    /// `meshgate check`: every error on stderr, one per line; exit 1 when there is any. Certificate pairs are
    /// loaded too (readable, key matching, valid now), each error naming its JSON path (SPEC §9).
    static func check(_ path: String) -> Int32 {
        switch ConfigLoader.load(path: path) {
        case .success(let config):
            let problems = ListenerTLSStore.check(config, nowSeconds: ListenerTLSStore.wallClockSeconds())
            if !problems.isEmpty {
                for problem in problems { Console.error("\(path): \(problem)\n") }
                Console.error("\(path): \(problems.count) error(s)\n")
                return Gateway.ExitCode.invalidConfig.rawValue
            }
            let routes = config.listeners.reduce(0) { $0 + $1.routes.count }
            let counts = [
                counted(config.listeners.count, "listener"), counted(routes, "route"),
                counted(config.upstreams.count, "upstream"),
            ]
            print("\(path): ok (\(counts.joined(separator: ", ")))")
            return 0
        case .failure(let errors):
            for error in errors.errors { Console.error("\(error.description)\n") }
            Console.error("\(path): \(errors.errors.count) error(s)\n")
            return Gateway.ExitCode.invalidConfig.rawValue
        }
    }
}
