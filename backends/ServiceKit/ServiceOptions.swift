import Glibc
import MeshPosix

/// The command line every backend shares (SPEC §8): `--listen ADDR`, `--data-dir DIR`, plus the service's own
/// valued flags. `--listen` takes `host:port` with a numeric IPv4 host or a bracketed IPv6 one.
public struct ServiceOptions: Sendable {
    /// Where to listen.
    public var listen: SocketAddress
    /// The data directory (created with mode 0700 if missing).
    public var dataDirectory: String
    /// Values of the service-specific flags, keyed by flag name (`--issuer` → `issuer`).
    public var extra: [String: String]
    /// Arguments that are not flags (e.g. `rotate-key`), in order.
    public var positional: [String]

    /// Parses `arguments` (without the program name); the error text is meant for stderr.
    public static func parse(
        _ arguments: [String],
        service: String,
        defaultListen: String,
        extraFlags: [String: String] = [:]
    ) -> Result<ServiceOptions, ServiceUsageError> {
        var listenText = defaultListen
        var dataDirectory = "./.meshgate-data/\(service)"
        var extra = extraFlags
        var positional: [String] = []
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            guard argument.hasPrefix("--") else {
                positional.append(argument)
                continue
            }
            let name = String(argument.dropFirst(2))
            guard name == "listen" || name == "data-dir" || extraFlags[name] != nil else {
                return .failure(ServiceUsageError(message: "unknown flag \(argument)"))
            }
            guard let value = rest.popFirst() else {
                return .failure(ServiceUsageError(message: "\(argument) needs a value"))
            }
            switch name {
            case "listen": listenText = value
            case "data-dir": dataDirectory = value
            default: extra[name] = value
            }
        }
        guard let address = parseAddress(listenText) else {
            return .failure(
                ServiceUsageError(message: "--listen wants host:port with a numeric host, got '\(listenText)'")
            )
        }
        return .success(
            ServiceOptions(
                listen: address,
                dataDirectory: dataDirectory,
                extra: extra,
                positional: positional
            )
        )
    }

    /// `127.0.0.1:9101`, `[::1]:9101`, `localhost:9101` (as 127.0.0.1); nil when malformed.
    public static func parseAddress(_ text: String) -> SocketAddress? {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" { host = "127.0.0.1" }
        return SocketAddress(numericHost: host, port: port)
    }

    /// Creates `path` and its parents (mode 0700: the data holds password hashes and signing keys).
    public static func makeDirectories(_ path: String) throws(SystemError) {
        var built = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            built += "/" + component
            if mkdir(built, 0o700) != 0 && errno != EEXIST {
                throw SystemError(errno: errno, call: "mkdir \(built)")
            }
        }
    }
}

/// A command-line mistake; the service prints it with its usage and exits 2.
public struct ServiceUsageError: Error, Sendable {
    /// What is wrong.
    public let message: String

    /// Creates a usage error.
    public init(message: String) {
        self.message = message
    }
}
