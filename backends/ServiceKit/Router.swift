/// A handler: runs on the loop thread, returns a response or throws (any error becomes a JSON 4xx/5xx).
public typealias Handler = (Request) throws -> Response

/// Method + path-template routing (`/profiles/{user}`), tried in registration order.
///
/// Built once at start, before the server runs; not thread-safe (the server owns it on its loop thread).
/// A template segment `{name}` matches one non-empty path segment, percent-decoded into `Request.parameters`.
public struct Router {
    /// One registered route; `name` is the metrics/log label (never the raw path: bounded cardinality).
    struct Route {
        let name: String
        let method: String
        let segments: [Segment]
        let handler: Kind
    }

    /// How a route answers.
    enum Kind {
        /// Returns the response.
        case now(Handler)
        /// Answers through a `Responder`, possibly after the handler returned.
        case later(DeferredHandler)
    }

    enum Segment: Equatable {
        case literal(String)
        case parameter(String)
    }

    /// What `match` found.
    enum Match {
        case found(Route, [String: String])
        /// The path exists with other methods (RFC 9110 §15.5.6: 405 with `Allow`).
        case methodNotAllowed([String])
        case notFound
    }

    private(set) var routes: [Route] = []
    /// Unary gRPC methods (`addGRPC`), served on the same port over h2c.
    var grpcMethods: [GRPCMethod] = []
    /// The service's own counters (`addCounter`).
    var counters: [ServiceCounter] = []

    /// An empty router.
    public init() {}

    /// Registers `handler` for `method` on `template`; `name` labels its metrics and log lines.
    public mutating func add(_ method: String, _ template: String, name: String, _ handler: @escaping Handler) {
        add(method, template, name: name, kind: .now(handler))
    }

    /// Registers a handler that may answer later (see `Responder`), for work that waits on the network.
    public mutating func addDeferred(
        _ method: String,
        _ template: String,
        name: String,
        _ handler: @escaping DeferredHandler
    ) {
        add(method, template, name: name, kind: .later(handler))
    }

    private mutating func add(_ method: String, _ template: String, name: String, kind: Kind) {
        let segments = Router.split(Substring(template)).map { part -> Segment in
            if part.hasPrefix("{") && part.hasSuffix("}") { return .parameter(String(part.dropFirst().dropLast())) }
            return .literal(String(part))
        }
        routes.append(Route(name: name, method: method, segments: segments, handler: kind))
    }

    /// The route names in registration order (for declaring metric series up front).
    public var routeNames: [String] { routes.map(\.name) }

    func match(method: String, path: Substring) -> Match {
        let parts = Router.split(path)
        var allowed: [String] = []
        for route in routes {
            guard let parameters = Router.bind(route.segments, parts) else { continue }
            // RFC 9110 §9.3.2: HEAD is GET without the body.
            if route.method == method || (method == "HEAD" && route.method == "GET") {
                return .found(route, parameters)
            }
            allowed.append(route.method)
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed)
    }

    private static func bind(_ segments: [Segment], _ parts: [Substring]) -> [String: String]? {
        guard segments.count == parts.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(segments, parts) {
            switch segment {
            case .literal(let text): if part != text { return nil }
            case .parameter(let name):
                if part.isEmpty { return nil }
                parameters[name] = PercentDecoding.decode(part, plusIsSpace: false)
            }
        }
        return parameters
    }

    /// `/a/b/` → ["a", "b", ""]: a trailing slash is a distinct (empty) segment, so `/profiles/` is not a user.
    private static func split(_ path: Substring) -> [Substring] {
        guard path.hasPrefix("/") else { return [path] }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
    }
}
