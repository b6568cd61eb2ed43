import MeshJSON

/// The top level and the process-wide sections: `version`, `admin`, `limits`, `tracing`, `logging`, `app`.
extension ConfigDecoder {
    /// Every worker sizes its buffers from `max_header_bytes` at start: a value in the gigabytes would allocate
    /// them. 1 MiB is far beyond any real head (nginx's default is 8 KiB lines, Envoy caps at 8 MiB).
    static let maxHeaderBytesLimit = 1 << 20

    static let rootKeys = [
        "$schema", "version", "admin", "listeners", "upstreams", "jwt_providers", "limits", "tracing", "logging",
        "watch_config", "app", "rate_limits",
    ]

    /// Decodes and validates the whole document. Upstreams and providers are decoded before listeners so that
    /// references can be checked whatever the key order; errors are sorted into file order afterwards.
    func decodeRoot(_ node: JSONNode) -> GatewayConfig? {
        guard let root = object(node, "", allowed: Self.rootKeys) else { return nil }
        // `$schema` lets editors find routes.schema.json; it has no meaning to meshgate.
        if let schema = root["$schema"] { _ = string(schema.value, "$schema") }
        if let version = required(root, "version", hint: " (add \"version\": 1)"), version.value.int64Value != 1 {
            error(
                "version", version.value.position,
                "unsupported version \(Self.describe(version.value)): this meshgate reads version 1")
        }
        let (upstreams, upstreamOrder) = decodeUpstreams(root)
        let providers = decodeProviders(root)
        let admin = decodeAdmin(root)
        let rateLimits = decodeRateLimits(root)
        let listeners = decodeListeners(
            root, upstreams: upstreamOrder, providers: providers.names, adminAddress: admin.address,
            hasRateLimitStore: rateLimits.store != nil,
            h2Upstreams: Set(upstreams.filter { $0.upstreamProtocol != .http1 }.map(\.name)))
        return GatewayConfig(
            version: 1, admin: admin, listeners: listeners,
            upstreams: Dictionary(uniqueKeysWithValues: upstreams.map { ($0.name, $0) }),
            upstreamOrder: upstreamOrder,
            jwtProviders: Dictionary(uniqueKeysWithValues: providers.configs.map { ($0.name, $0) }),
            limits: decodeLimits(root), tracing: decodeTracing(root), logging: decodeLogging(root),
            watchConfig: bool(root, "watch_config") ?? Defaults.watchConfig, app: decodeApp(root),
            rateLimits: rateLimits)
    }

    /// `"admin": null` turns the admin listener off; `{"address": …}` moves it.
    func decodeAdmin(_ root: ObjectNode) -> AdminConfig {
        guard let member = root["admin"] else { return AdminConfig(address: Defaults.adminAddress) }
        if member.value.isNull { return AdminConfig(address: nil) }
        guard let admin = object(member.value, "admin", allowed: ["address"]) else {
            return AdminConfig(address: Defaults.adminAddress)
        }
        guard let address = admin["address"] else { return AdminConfig(address: Defaults.adminAddress) }
        if address.value.isNull { return AdminConfig(address: nil) }
        return AdminConfig(address: hostPort(address.value, admin.path("address")) ?? Defaults.adminAddress)
    }

    /// A `host:port` string; nil after an error.
    func hostPort(_ node: JSONNode, _ path: String) -> HostPort? {
        guard let text = string(node, path) else { return nil }
        switch Syntax.hostPort(text) {
        case .success(let address): return address
        case .failure(let problem):
            error(path, node.position, problem.message)
            return nil
        }
    }

    func decodeLimits(_ root: ObjectNode) -> LimitsConfig {
        let d = Defaults.limits
        guard let member = root["limits"] else { return d }
        let keys = [
            "max_header_bytes", "max_body_bytes", "max_connections", "header_timeout_ms", "idle_timeout_ms",
            "drain_grace_ms", "drain_timeout_ms", "h2",
        ]
        guard let limits = object(member.value, "limits", allowed: keys) else { return d }
        var h2 = d.h2
        if let member = limits["h2"] { h2 = decodeH2Limits(member.value, limits.path("h2")) ?? d.h2 }
        // 1 KiB is the smallest head that still fits a request line and a few headers.
        return LimitsConfig(
            maxHeaderBytes: int(limits, "max_header_bytes", 1024...Self.maxHeaderBytesLimit, what: "a number of bytes")
                ?? d.maxHeaderBytes,
            maxBodyBytes: int(limits, "max_body_bytes", 0...Int.max, what: "a number of bytes") ?? d.maxBodyBytes,
            maxConnections: int(limits, "max_connections", 1...Int.max, what: "a positive integer") ?? d.maxConnections,
            headerTimeoutMs: duration(limits, "header_timeout_ms", min: 1) ?? d.headerTimeoutMs,
            idleTimeoutMs: duration(limits, "idle_timeout_ms", min: 1) ?? d.idleTimeoutMs,
            drainGraceMs: duration(limits, "drain_grace_ms") ?? d.drainGraceMs,
            drainTimeoutMs: duration(limits, "drain_timeout_ms") ?? d.drainTimeoutMs, h2: h2)
    }

    /// `limits.h2`: windows above 2^31−1 and frame sizes outside RFC 9113's 16,384–16,777,215 are refused.
    func decodeH2Limits(_ node: JSONNode, _ path: String) -> H2LimitsConfig? {
        let keys = ["max_concurrent_streams", "initial_window_bytes", "max_frame_bytes"]
        guard let h2 = object(node, path, allowed: keys) else { return nil }
        let d = H2LimitsConfig()
        return H2LimitsConfig(
            maxConcurrentStreams: int(h2, "max_concurrent_streams", 1...1_000_000, what: "a number of streams")
                ?? d.maxConcurrentStreams,
            initialWindowBytes: int(h2, "initial_window_bytes", 1...2_147_483_647, what: "a window of 1 to 2^31-1 bytes")
                ?? d.initialWindowBytes,
            maxFrameBytes: int(h2, "max_frame_bytes", 16_384...16_777_215, what: "a frame size of 16384 to 16777215 bytes")
                ?? d.maxFrameBytes)
    }

    func decodeTracing(_ root: ObjectNode) -> TracingConfig {
        let d = Defaults.tracing
        guard let member = root["tracing"] else { return d }
        let keys = ["service_name", "sample_ratio", "otlp_endpoint", "ca_file"]
        guard let tracing = object(member.value, "tracing", allowed: keys) else { return d }
        var endpoint: String? = nil
        if let otlp = tracing["otlp_endpoint"], !otlp.value.isNull {
            endpoint = httpURL(otlp.value, tracing.path("otlp_endpoint"), allowHTTPS: true)
        }
        // As jwks.ca_file: a CA file for an http:// collector is a mistake worth naming. With export off
        // (no or null endpoint) it is kept and unused, so turning export off is a one-line change.
        let caFile = string(tracing, "ca_file")
        if caFile != nil, let endpoint, !endpoint.hasPrefix("https://"), let member = tracing["ca_file"] {
            error(tracing.path("ca_file"), member.keyPosition, "ca_file applies only to an https:// otlp_endpoint")
        }
        return TracingConfig(
            serviceName: string(tracing, "service_name") ?? d.serviceName,
            sampleRatio: double(tracing, "sample_ratio", 0...1) ?? d.sampleRatio,
            otlpEndpoint: endpoint, caFile: caFile)
    }

    func decodeLogging(_ root: ObjectNode) -> LoggingConfig {
        let d = Defaults.logging
        guard let member = root["logging"] else { return d }
        guard let logging = object(member.value, "logging", allowed: ["level", "access_log"]) else { return d }
        var level = d.level
        if let node = logging["level"],
            let name = choice(node.value, logging.path("level"), LogLevel.allCases.map(\.rawValue))
        {
            level = LogLevel(rawValue: name) ?? d.level
        }
        return LoggingConfig(level: level, accessLog: bool(logging, "access_log") ?? d.accessLog)
    }

    /// Sidecar mode's app health check.
    func decodeApp(_ root: ObjectNode) -> AppConfig? {
        guard let member = root["app"], !member.value.isNull else { return nil }
        guard let app = object(member.value, "app", allowed: ["health_url", "startup_timeout_ms"]) else { return nil }
        let url = required(app, "health_url").flatMap { httpURL($0.value, app.path("health_url")) }
        let timeout = duration(app, "startup_timeout_ms", min: 1) ?? Defaults.appStartupTimeoutMs
        return url.map { AppConfig(healthURL: $0, startupTimeoutMs: timeout) }
    }

    /// An `http://` URL string (or `https://` with `allowHTTPS`); nil after an error.
    func httpURL(_ node: JSONNode, _ path: String, allowHTTPS: Bool = false) -> String? {
        guard let url = string(node, path) else { return nil }
        if let problem = Syntax.httpURLProblem(url, allowHTTPS: allowHTTPS) {
            error(path, node.position, problem)
            return nil
        }
        return url
    }
}
