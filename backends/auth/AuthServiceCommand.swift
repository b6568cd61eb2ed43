import MeshPosix
import ServiceKit

/// `auth-service`'s entry point: serve, or `rotate-key`.
public enum AuthServiceCommand {
    static let flags = ["issuer": "meshgate-auth", "audience": "meshgate", "token-ttl-s": "3600"]

    /// Runs with `arguments` (program name excluded); returns the exit code.
    public static func main(_ arguments: [String]) -> Int32 {
        if arguments.first == "rotate-key" { return rotate(Array(arguments.dropFirst())) }
        return ServiceRunner.run(
            service: "auth-service",
            defaultListen: "127.0.0.1:9101",
            extraFlags: flags,
            arguments: arguments
        ) { options, log in
            let settings = try settings(options)
            let service = try AuthService(dataDirectory: options.dataDirectory, settings: settings)
            log.info("signing key", ["kid": .string(service.keys.current.kid)])
            return service.router()
        }
    }

    /// `auth-service rotate-key [--data-dir DIR]`: adds a new signing key; the running service (if any) signs with
    /// it from its next login, and keeps publishing the old ones for a token lifetime.
    static func rotate(_ arguments: [String]) -> Int32 {
        let log = ServiceLog(service: "auth-service")
        let options: ServiceOptions
        switch ServiceOptions.parse(
            arguments,
            service: "auth-service",
            defaultListen: "127.0.0.1:9101",
            extraFlags: flags
        ) {
        case .success(let parsed): options = parsed
        case .failure(let usage):
            ServiceRunner.printError(
                "auth-service rotate-key: \(usage.message)\n"
                    + "usage: auth-service rotate-key [--data-dir DIR]\n"
            )
            return 2
        }
        do {
            let directory = options.dataDirectory + "/keys"
            let kid = try SigningKeys.create(in: directory, nowMs: WallClock.nowMilliseconds())
            log.info("rotated signing key", ["kid": .string(kid), "directory": .string(directory)])
            return 0
        } catch {
            log.error("cannot rotate the signing key", ["error": .string("\(error)")])
            return 1
        }
    }

    static func settings(_ options: ServiceOptions) throws -> AuthService.Settings {
        var settings = AuthService.Settings()
        settings.issuer = options.extra["issuer"] ?? settings.issuer
        settings.audience = options.extra["audience"] ?? settings.audience
        guard let ttl = Int64(options.extra["token-ttl-s"] ?? ""), ttl > 0, ttl <= 86_400 * 30 else {
            throw ServiceUsageError(message: "--token-ttl-s wants seconds from 1 to 2592000")
        }
        settings.tokenTTLSeconds = ttl
        return settings
    }
}
