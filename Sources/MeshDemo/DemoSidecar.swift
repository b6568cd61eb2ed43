import Glibc
import MeshConfig

/// relationship-service's outbound meshgate sidecar (issue 16): when `sidecar-relationships.json` sits beside the
/// demo's routes.json, relationship-service runs as the app of `meshgate run --config <it> -- …` and sends its
/// profile lookups (gRPC `profile.v1.Profiles/GetProfiles`, h2c) to the sidecar's first listener, which owns the
/// timeout, retries and breaker. Without the file the demo runs relationship-service alone (its lists then carry
/// default profiles), so a directory holding only a routes.json still runs.
struct DemoSidecar {
    static let fileName = "sidecar-relationships.json"
    /// The backend that runs under it.
    static let app = "relationship-service"

    /// The config file's path as the demo was given it (relative to the demo's directory, like routes.json).
    let path: String
    let config: GatewayConfig

    /// The sidecar config beside `configPath`: nil when there is none, an error message when it does not load.
    static func load(beside configPath: String) -> Result<DemoSidecar?, SystemErrorText> {
        let directory = configPath.lastIndex(of: "/").map { String(configPath[...$0]) } ?? ""
        let path = directory + fileName
        guard access(path, F_OK) == 0 else { return .success(nil) }
        switch ConfigLoader.load(path: path) {
        case .success(let config):
            guard !config.listeners.isEmpty else { return .failure(SystemErrorText("\(path) has no listener")) }
            return .success(DemoSidecar(path: path, config: config))
        case .failure(let errors):
            let text = errors.errors.map(\.description).joined(separator: "\n")
            return .failure(SystemErrorText("\(text)\n\(path) is not a valid configuration"))
        }
    }

    /// Where the app sends its gRPC calls: the sidecar's first listener.
    var grpcAddress: HostPort { config.listeners[0].address }

    /// The sidecar's command line around the app's own (`appArguments[0]` is the app's binary).
    func command(meshgate: String, appArguments: [String]) -> [String] {
        [meshgate, "run", "--config", path, "--workers", "1", "--"] + appArguments
            + ["--profiles-grpc", grpcAddress.description]
    }

    /// The addresses the sidecar binds, for the port check before anything starts.
    var portNeeds: [DemoPorts.Need] {
        var needs = config.listeners.map {
            DemoPorts.Need(address: $0.address, purpose: "the relationship sidecar's listener '\($0.name)'")
        }
        if let admin = config.admin.address {
            needs.append(DemoPorts.Need(address: admin, purpose: "the relationship sidecar's admin listener"))
        }
        return needs
    }
}
