import MeshJSON

/// `upstreams`: endpoints, balancing, pool, circuit breaker, health check.
extension ConfigDecoder {
    static let upstreamKeys = [
        "endpoints", "balance", "connect_timeout_ms", "dns_refresh_ms", "pool", "circuit_breaker", "health_check",
        "tls", "max_in_flight", "protocol",
    ]

    /// Returns the valid upstreams and the names of all upstreams in file order (invalid ones included, so that a
    /// route naming a broken upstream reports the upstream's error, not a second "unknown upstream").
    func decodeUpstreams(_ root: ObjectNode) -> ([UpstreamConfig], [String]) {
        guard let member = root["upstreams"] else { return ([], []) }
        guard let members = member.value.objectValue else {
            typeError("upstreams", member.value, expected: "an object of upstreams by name")
            return ([], [])
        }
        var result: [UpstreamConfig] = []
        for entry in members {
            checkName(entry, "upstreams")
            if let upstream = decodeUpstream(entry.key, entry.value, Self.join("upstreams", entry.key)) {
                result.append(upstream)
            }
        }
        return (result, members.map(\.key))
    }

    func decodeUpstream(_ name: String, _ node: JSONNode, _ path: String) -> UpstreamConfig? {
        guard let upstream = object(node, path, allowed: Self.upstreamKeys) else { return nil }
        var endpoints: [HostPort] = []
        if required(upstream, "endpoints") != nil, let items = array(upstream, "endpoints", nonEmpty: true) {
            for item in items {
                guard let address = hostPort(item.node, item.path) else { continue }
                if endpoints.contains(address) {
                    error(item.path, item.node.position, "endpoint \(address) is listed twice")
                }
                endpoints.append(address)
            }
        }
        var balance = Defaults.balance
        if let node = upstream["balance"],
            let value = choice(node.value, upstream.path("balance"), ["round_robin", "least_request", "random"])
        {
            balance = BalanceConfig(rawValue: value) ?? balance
        }
        let tls = upstream["tls"].flatMap { decodeUpstreamTLS($0.value, upstream.path("tls")) }
        let upstreamProtocol = decodeUpstreamProtocol(upstream, hasTLS: upstream["tls"] != nil)
        return UpstreamConfig(
            name: name, endpoints: endpoints, balance: balance,
            connectTimeoutMs: duration(upstream, "connect_timeout_ms", min: 1) ?? Defaults.connectTimeoutMs,
            dnsRefreshMs: duration(upstream, "dns_refresh_ms", min: 1) ?? Defaults.dnsRefreshMs,
            pool: decodePool(upstream), circuitBreaker: decodeBreaker(upstream),
            healthCheck: decodeHealthCheck(upstream),
            tls: tls, maxInFlight: decodeMaxInFlight(upstream), upstreamProtocol: upstreamProtocol)
    }

    /// `protocol`: `http1` (default) or `h2c`. `h2` (over TLS) is refused with what to use instead until the
    /// gateway speaks it; `h2c` with `tls` contradicts itself.
    func decodeUpstreamProtocol(_ upstream: ObjectNode, hasTLS: Bool) -> UpstreamProtocol {
        guard let member = upstream["protocol"],
            let value = choice(member.value, upstream.path("protocol"), ["http1", "h2c", "h2"])
        else { return .http1 }
        switch value {
        case "h2" where !hasTLS:
            error(
                upstream.path("protocol"), member.value.position,
                "\"h2\" is HTTP/2 over TLS but this upstream has no \"tls\": add \"tls\", or use \"h2c\" for cleartext")
            return .http1
        case "h2": return .h2
        case "h2c" where hasTLS:
            error(
                upstream.path("protocol"), member.value.position,
                "\"h2c\" is cleartext HTTP/2 but this upstream has \"tls\": remove one of them")
            return .http1
        case "h2c": return .h2c
        default: return .http1
        }
    }

    func decodePool(_ upstream: ObjectNode) -> PoolConfig {
        let d = Defaults.pool
        guard let member = upstream["pool"] else { return d }
        let path = upstream.path("pool")
        guard let pool = object(member.value, path, allowed: ["max_connections", "max_idle", "idle_timeout_ms"]) else {
            return d
        }
        let maxConnections = int(pool, "max_connections", 1...Int.max, what: "a positive integer") ?? d.maxConnections
        // Unset, max_idle follows max_connections: a pool keeps what its concurrency needed (as HAProxy and Envoy
        // do) and the idle timeout trims it; a smaller cap made 50 clients churn connections (issue 17).
        let maxIdle = int(pool, "max_idle", 0...Int.max, what: "a non-negative integer") ?? maxConnections
        if maxIdle > maxConnections {
            // Blame whichever key the user wrote; with only defaults this cannot happen.
            let key = pool["max_idle"] != nil ? "max_idle" : "max_connections"
            error(
                pool.path(key), pool[key]?.value.position,
                "max_idle (\(maxIdle)) must not exceed max_connections (\(maxConnections))")
        }
        return PoolConfig(
            maxConnections: maxConnections, maxIdle: maxIdle,
            idleTimeoutMs: duration(pool, "idle_timeout_ms", min: 1) ?? d.idleTimeoutMs)
    }

    func decodeBreaker(_ upstream: ObjectNode) -> CircuitBreakerConfig {
        let d = Defaults.circuitBreaker
        guard let member = upstream["circuit_breaker"] else { return d }
        let keys = ["consecutive_failures", "open_ms", "half_open_requests"]
        guard let breaker = object(member.value, upstream.path("circuit_breaker"), allowed: keys) else { return d }
        return CircuitBreakerConfig(
            consecutiveFailures: int(breaker, "consecutive_failures", 1...Int.max, what: "a positive integer")
                ?? d.consecutiveFailures,
            openMs: duration(breaker, "open_ms", min: 1) ?? d.openMs,
            halfOpenRequests: int(breaker, "half_open_requests", 1...Int.max, what: "a positive integer")
                ?? d.halfOpenRequests)
    }

    func decodeHealthCheck(_ upstream: ObjectNode) -> HealthCheckConfig? {
        guard let member = upstream["health_check"], !member.value.isNull else { return nil }
        let d = Defaults.healthCheck
        let keys = ["path", "interval_ms", "timeout_ms", "unhealthy_threshold", "healthy_threshold"]
        guard let check = object(member.value, upstream.path("health_check"), allowed: keys) else { return nil }
        var path = d.path
        if let node = check["path"], let value = string(node.value, check.path("path")) {
            if let problem = Syntax.pathProblem(value) { error(check.path("path"), node.value.position, problem) }
            path = value
        }
        let interval = duration(check, "interval_ms", min: 1) ?? d.intervalMs
        let timeout = duration(check, "timeout_ms", min: 1) ?? d.timeoutMs
        if timeout > interval {
            let key = check["timeout_ms"] != nil ? "timeout_ms" : "interval_ms"
            error(
                check.path(key), check[key]?.value.position,
                "timeout_ms (\(timeout)) must not exceed interval_ms (\(interval)), or checks would overlap")
        }
        return HealthCheckConfig(
            path: path, intervalMs: interval, timeoutMs: timeout,
            unhealthyThreshold: int(check, "unhealthy_threshold", 1...Int.max, what: "a positive integer")
                ?? d.unhealthyThreshold,
            healthyThreshold: int(check, "healthy_threshold", 1...Int.max, what: "a positive integer")
                ?? d.healthyThreshold)
    }
}
