import Glibc
import MeshPosix

/// The shared `main` of the backends: parse flags, create the data directory, build the service's router,
/// serve until SIGTERM/SIGINT. Exit codes follow SPEC §2: 0 clean stop, 1 cannot start (storage, keys),
/// 2 usage error, 3 cannot bind.
public enum ServiceRunner {
    /// Runs a service; returns the process exit code.
    ///
    /// - Parameter makeRouter: opens the service's storage under `options.dataDirectory` and returns its routes;
    ///   a thrown error is logged and exits 1.
    public static func run(
        service: String,
        defaultListen: String,
        extraFlags: [String: String] = [:],
        arguments: [String],
        makeRouter: (ServiceOptions, ServiceLog) throws -> Router
    ) -> Int32 {
        let log = ServiceLog(service: service)
        let options: ServiceOptions
        switch ServiceOptions.parse(arguments, service: service, defaultListen: defaultListen, extraFlags: extraFlags) {
        case .success(let parsed): options = parsed
        case .failure(let usage):
            let flags = (["--listen ADDR", "--data-dir DIR"] + extraFlags.keys.sorted().map { "--\($0) VALUE" })
            printError("\(service): \(usage.message)\nusage: \(service) \(flags.joined(separator: " "))\n")
            return 2
        }
        let router: Router
        do {
            try ServiceOptions.makeDirectories(options.dataDirectory)
            router = try makeRouter(options, log)
        } catch let usage as ServiceUsageError {
            printError("\(service): \(usage.message)\n")
            return 2
        } catch {
            log.error("cannot start", ["error": .string("\(error)"), "data_dir": .string(options.dataDirectory)])
            return 1
        }
        do {
            let server = try ServiceServer(service: service, router: router)
            try server.run(listen: options.listen)
        } catch {
            log.error("cannot listen", ["error": .string(error.description), "address": .string("\(options.listen)")])
            return 3
        }
        return 0
    }

    /// Writes `text` to stderr.
    public static func printError(_ text: String) {
        var bytes = Array(text.utf8)
        _ = Glibc.write(2, &bytes, bytes.count)
    }
}
