import MeshConfig
import MeshProxy

/// The strings a span needs from one config generation, built once per config so that queuing a request copies
/// indexes, not names. Shared read-only between the workers (which attach it to each queued record) and the
/// exporter thread (which reads it), hence a final class of immutable values.
public final class OTLPNames: Sendable {
    /// `tracing.service_name`: the `service.name` resource attribute.
    public let service: String
    /// `[listener]`.
    public let listeners: [String]
    /// `[listener][route]`: the route's name (`meshgate.route`).
    public let routes: [[String]]
    /// `[listener][route]`: the route's path pattern (`http.route`, see `pattern(_:)`).
    public let routePatterns: [[String]]
    /// `[upstream]`.
    public let upstreams: [String]
    /// `[upstream][endpoint]`.
    public let endpoints: [[HostPort]]

    /// Names of `config`.
    public init(_ config: CompiledConfig) {
        service = config.source.tracing.serviceName
        listeners = config.listeners.map(\.config.name)
        routes = config.listeners.map { $0.routes.map(\.config.name) }
        routePatterns = config.listeners.map { $0.routes.map { Self.pattern($0.config.match.path) } }
        upstreams = config.upstreamNames
        endpoints = config.upstreamNames.indices.map { config.upstream(at: $0).endpoints }
    }

    /// The low-cardinality path pattern for `http.route` (OpenTelemetry HTTP semantic conventions: "the matched
    /// route, that is, the path template"): exact paths as written, prefixes as `<prefix>/*`, templates with their
    /// `{param}` segments.
    public static func pattern(_ match: PathMatch) -> String {
        switch match {
        case .exact(let path): return path
        case .prefix(let prefix): return prefix == "/" ? "/*" : prefix + "/*"
        case .template(let segments, let names):
            var out = ""
            var param = 0
            for segment in segments {
                out += "/"
                if let literal = segment {
                    out += literal
                } else {
                    out += "{" + (param < names.count ? names[param] : "param") + "}"
                    param += 1
                }
            }
            return out.isEmpty ? "/" : out
        }
    }

    /// The route's name and pattern, nil when `route` is out of range (no route matched).
    public func route(listener: Int, route: Int) -> (name: String, pattern: String)? {
        guard listener >= 0, listener < routes.count, route >= 0, route < routes[listener].count else { return nil }
        return (routes[listener][route], routePatterns[listener][route])
    }

    /// The listener's name, nil when out of range.
    public func listener(_ index: Int) -> String? { index >= 0 && index < listeners.count ? listeners[index] : nil }

    /// The upstream's name, nil when out of range.
    public func upstream(_ index: Int) -> String? { index >= 0 && index < upstreams.count ? upstreams[index] : nil }

    /// The endpoint's address, nil when out of range.
    public func endpoint(upstream: Int, _ index: Int) -> HostPort? {
        guard upstream >= 0, upstream < endpoints.count, index >= 0, index < endpoints[upstream].count else {
            return nil
        }
        return endpoints[upstream][index]
    }
}
