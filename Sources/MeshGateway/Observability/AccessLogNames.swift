import MeshProxy

/// Config names as UTF-8 bytes, prepared once per config so that writing an access-log line copies bytes and
/// builds no strings.
struct AccessLogNames: Sendable {
    /// `[listener]`.
    let listeners: [[UInt8]]
    /// `[listener][route]`.
    let routes: [[[UInt8]]]
    /// `[upstream]`.
    let upstreams: [[UInt8]]
    /// `[upstream][endpoint]`, `host:port`.
    let endpoints: [[[UInt8]]]

    init(_ config: CompiledConfig) {
        listeners = config.listeners.map { Array($0.config.name.utf8) }
        routes = config.listeners.map { $0.routes.map { Array($0.config.name.utf8) } }
        upstreams = config.upstreamNames.map { Array($0.utf8) }
        endpoints = config.upstreamNames.indices.map {
            config.upstream(at: $0).endpoints.map { Array($0.description.utf8) }
        }
    }
}
