import MeshJSON

/// Writes a `GatewayConfig` back as JSON in the file's own shape, with every default filled in, so `GET /config`
/// shows exactly what runs and the output loads again. Secrets are redacted: private and symmetric JWK members
/// of inline key sets, and passwords in URLs.
enum ConfigRenderer {
    static let redacted = "[redacted]"
    /// RFC 7518 §6.2.2, §6.3.2, §6.4.1: JWK members that hold private or symmetric key material.
    static let secretJWKMembers: Set<String> = ["k", "d", "p", "q", "dp", "dq", "qi", "oth"]

    static func render(_ config: GatewayConfig) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.key("version")
        w.number(config.version)
        w.key("admin")
        if let address = config.admin.address {
            w.beginObject()
            w.key("address")
            w.string(address.description)
            w.endObject()
        } else {
            w.null()
        }
        w.key("listeners")
        w.beginArray()
        for listener in config.listeners { listenerJSON(listener, &w) }
        w.endArray()
        w.key("upstreams")
        w.beginObject()
        for name in config.upstreamOrder {
            guard let upstream = config.upstreams[name] else { continue }
            w.key(name)
            upstreamJSON(upstream, &w)
        }
        w.endObject()
        w.key("jwt_providers")
        w.beginObject()
        for provider in config.jwtProviders.values.sorted(by: { $0.name < $1.name }) {
            w.key(provider.name)
            providerJSON(provider, &w)
        }
        w.endObject()
        rateLimitsJSON(config.rateLimits, &w)
        processJSON(config, &w)
        w.endObject()
        return w.text
    }

    private static func processJSON(_ config: GatewayConfig, _ w: inout JSONWriter) {
        let l = config.limits
        w.key("limits")
        fields(
            &w,
            [
                ("max_header_bytes", l.maxHeaderBytes), ("max_body_bytes", l.maxBodyBytes),
                ("max_connections", l.maxConnections), ("header_timeout_ms", l.headerTimeoutMs),
                ("idle_timeout_ms", l.idleTimeoutMs), ("drain_grace_ms", l.drainGraceMs),
                ("drain_timeout_ms", l.drainTimeoutMs),
            ], nested: ("h2", [
                ("max_concurrent_streams", l.h2.maxConcurrentStreams),
                ("initial_window_bytes", l.h2.initialWindowBytes), ("max_frame_bytes", l.h2.maxFrameBytes),
            ]))
        w.key("tracing")
        w.beginObject()
        w.key("service_name")
        w.string(config.tracing.serviceName)
        w.key("sample_ratio")
        w.number(config.tracing.sampleRatio)
        w.key("otlp_endpoint")
        if let endpoint = config.tracing.otlpEndpoint { w.string(redactURL(endpoint)) } else { w.null() }
        if let caFile = config.tracing.caFile {
            w.key("ca_file")
            w.string(caFile)
        }
        w.endObject()
        w.key("logging")
        w.beginObject()
        w.key("level")
        w.string(config.logging.level.rawValue)
        w.key("access_log")
        w.bool(config.logging.accessLog)
        w.endObject()
        w.key("watch_config")
        w.bool(config.watchConfig)
        if let app = config.app {
            w.key("app")
            w.beginObject()
            w.key("health_url")
            w.string(redactURL(app.healthURL))
            w.key("startup_timeout_ms")
            w.number(app.startupTimeoutMs)
            w.endObject()
        }
    }

    /// `{"k1": v1, …}` for integer fields.
    /// An object of numbers, and optionally one more object of numbers inside it.
    static func fields(_ w: inout JSONWriter, _ pairs: [(String, Int)], nested: (String, [(String, Int)])? = nil) {
        w.beginObject()
        for (key, value) in pairs {
            w.key(key)
            w.number(value)
        }
        if let (key, inner) = nested {
            w.key(key)
            fields(&w, inner)
        }
        w.endObject()
    }

    static func pairs(_ w: inout JSONWriter, _ pairs: [(String, String)]) {
        w.beginObject()
        for (key, value) in pairs {
            w.key(key)
            w.string(value)
        }
        w.endObject()
    }

    static func strings(_ w: inout JSONWriter, _ values: [String]) {
        w.beginArray()
        for value in values { w.string(value) }
        w.endArray()
    }

    private static func upstreamJSON(_ u: UpstreamConfig, _ w: inout JSONWriter) {
        w.beginObject()
        w.key("endpoints")
        strings(&w, u.endpoints.map(\.description))
        w.key("balance")
        w.string(u.balance.rawValue)
        w.key("protocol")
        w.string(u.upstreamProtocol.rawValue)
        w.key("connect_timeout_ms")
        w.number(u.connectTimeoutMs)
        w.key("dns_refresh_ms")
        w.number(u.dnsRefreshMs)
        w.key("pool")
        fields(
            &w,
            [
                ("max_connections", u.pool.maxConnections), ("max_idle", u.pool.maxIdle),
                ("idle_timeout_ms", u.pool.idleTimeoutMs),
            ])
        w.key("circuit_breaker")
        let b = u.circuitBreaker
        fields(
            &w,
            [
                ("consecutive_failures", b.consecutiveFailures), ("open_ms", b.openMs),
                ("half_open_requests", b.halfOpenRequests),
            ])
        maxInFlightJSON(u.maxInFlight, &w)
        if let tls = u.tls {
            w.key("tls")
            w.beginObject()
            for (key, value) in [
                ("ca_file", tls.caFile), ("server_name", tls.serverName), ("cert_file", tls.certFile),
                ("key_file", tls.keyFile),
            ] {
                w.key(key)
                if let value { w.string(value) } else { w.null() }
            }
            w.endObject()
        }
        if let h = u.healthCheck {
            w.key("health_check")
            w.beginObject()
            w.key("path")
            w.string(h.path)
            for (key, value) in [
                ("interval_ms", h.intervalMs), ("timeout_ms", h.timeoutMs),
                ("unhealthy_threshold", h.unhealthyThreshold), ("healthy_threshold", h.healthyThreshold),
            ] {
                w.key(key)
                w.number(value)
            }
            w.endObject()
        }
        w.endObject()
    }

    /// `http://user:secret@host/p?token=x` → `http://[redacted]@host/p?[redacted]` (`URLRedaction`).
    static func redactURL(_ url: String) -> String { URLRedaction.redact(url) }

    /// An inline JWKS with secret members replaced; the text was produced by `JSONWriter`, so it parses.
    static func redactJWKS(_ text: String) -> JSONValue {
        guard let node = try? JSONReader.parse(text) else { return .string(redacted) }
        return redact(node.value)
    }

    private static func redact(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let items):
            return .array(items.map { JSONNode(value: redact($0.value), position: $0.position) })
        case .object(let members):
            return .object(
                members.map { member in
                    var copy = member
                    copy.value.value =
                        secretJWKMembers.contains(member.key) ? .string(redacted) : redact(member.value.value)
                    return copy
                })
        default:
            return value
        }
    }
}
