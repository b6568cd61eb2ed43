import Testing

@testable import MeshConfig

/// The repository root, found from this file's path (Tests/MeshConfigTests/…).
let repoRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

let fixtures = repoRoot + "/Tests/MeshConfigTests/Fixtures"

/// A valid document with one listener "edge" whose only route is `route`; pieces can be replaced.
func document(
    route: String = #"{"match": {"path": "/"}, "upstream": "app"}"#,
    listenerExtra: String = "",
    upstreams: String = #"{"app": {"endpoints": ["127.0.0.1:3000"]}}"#,
    providers: String = #"{"local": {"issuer": "meshgate-auth", "jwks": {"url": "http://127.0.0.1:9101/jwks"}}}"#,
    extra: String = ""
) -> String {
    """
    {"version": 1,
     "listeners": [{"name": "edge", "address": "127.0.0.1:8080", \(listenerExtra) "routes": [\(route)]}],
     "upstreams": \(upstreams),
     "jwt_providers": \(providers)\(extra.isEmpty ? "" : ", " + extra)}
    """
}

func load(_ text: String, environment: [String: String] = [:]) -> Result<GatewayConfig, ConfigErrors> {
    ConfigLoader.parse(Array(text.utf8), fileName: "routes.json", environment: environment)
}

/// The config, or a recorded issue listing the errors.
func loadValid(_ text: String, environment: [String: String] = [:]) throws -> GatewayConfig {
    switch load(text, environment: environment) {
    case .success(let config): return config
    case .failure(let errors):
        Issue.record("unexpected errors:\n\(errors)")
        throw errors
    }
}

/// The errors, or an empty list plus a recorded issue when the document loaded.
func loadErrors(_ text: String, environment: [String: String] = [:]) -> [ConfigError] {
    switch load(text, environment: environment) {
    case .success:
        Issue.record("expected errors, but the document loaded")
        return []
    case .failure(let errors): return errors.errors
    }
}
