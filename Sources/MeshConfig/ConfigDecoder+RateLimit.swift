import MeshJSON

/// `rate_limits` (top level), `rate_limit` (route and listener) and `max_in_flight` (upstream), SPEC §11.
extension ConfigDecoder {
    static let rateLimitKeys = ["key", "requests_per_second", "burst", "scope", "max_keys"]
    /// 10⁷ keys are 320 MB in the process store (32 bytes a key): more is a typo, not a plan.
    static let maxRateLimitKeys = 10_000_000
    /// A limit above a billion requests a second is no limit; below one a day is a typo.
    static let rateRange = (1.0 / 86_400)...1e9

    func decodeRateLimits(_ root: ObjectNode) -> RateLimitsConfig {
        guard let member = root["rate_limits"], !member.value.isNull else { return .none }
        guard let limits = object(member.value, "rate_limits", allowed: ["store"]) else { return .none }
        guard let store = limits["store"], !store.value.isNull else { return .none }
        let path = limits.path("store")
        guard let fields = object(store.value, path, allowed: ["redis", "timeout_ms", "on_error"]) else {
            return .none
        }
        let address = required(fields, "redis").flatMap { hostPort($0.value, fields.path("redis")) }
        var onError = Defaults.rateLimitOnError
        if let node = fields["on_error"], let value = choice(node.value, fields.path("on_error"), ["allow", "deny"]) {
            onError = RateLimitOnError(rawValue: value) ?? onError
        }
        let timeout = duration(fields, "timeout_ms", min: 1) ?? Defaults.rateLimitStoreTimeoutMs
        guard let address else { return .none }
        return RateLimitsConfig(store: RateLimitStoreConfig(redis: address, timeoutMs: timeout, onError: onError))
    }

    /// A `rate_limit` object. `jwt` is the effective rule where it applies (nil: no token is verified there, so
    /// a `claim:` key is an error); `hasStore` whether `rate_limits.store` is configured.
    func decodeRateLimit(_ node: JSONNode, _ path: String, jwt: JWTRuleConfig?, hasStore: Bool) -> RateLimitConfig? {
        guard let limit = object(node, path, allowed: Self.rateLimitKeys) else { return nil }
        var key: RateLimitKeyConfig? = .clientIP
        if let member = limit["key"] { key = decodeRateLimitKey(member.value, limit.path("key"), jwt: jwt) }
        let rate = required(limit, "requests_per_second").flatMap { _ in
            double(limit, "requests_per_second", Self.rateRange)
        }
        // Unset, the burst is one second of the rate (at least 1): a client may spend a second's worth at once.
        let defaultBurst = max(1, Int((rate ?? 1).rounded(.up)))
        let burst = int(limit, "burst", 1...1_000_000_000, what: "a positive integer") ?? defaultBurst
        var scope = RateLimitScope.process
        if let member = limit["scope"], let value = choice(member.value, limit.path("scope"), ["process", "global"]) {
            scope = RateLimitScope(rawValue: value) ?? scope
            if scope == .global && !hasStore {
                error(
                    limit.path("scope"), member.value.position,
                    "scope \"global\" needs a shared store: add \"rate_limits\": {\"store\": {\"redis\": \"host:port\"}}")
            }
        }
        let maxKeys =
            int(limit, "max_keys", 1...Self.maxRateLimitKeys, what: "a positive integer") ?? Defaults.rateLimitMaxKeys
        guard let rate, let key else { return nil }
        return RateLimitConfig(key: key, requestsPerSecond: rate, burst: burst, scope: scope, maxKeys: maxKeys)
    }

    private func decodeRateLimitKey(_ node: JSONNode, _ path: String, jwt: JWTRuleConfig?) -> RateLimitKeyConfig? {
        guard let text = string(node, path) else { return nil }
        switch text {
        case "client_ip": return .clientIP
        case "route": return .route
        default: break
        }
        if text.hasPrefix("header:") {
            let name = String(text.dropFirst(7))
            guard Syntax.isToken(name) else {
                error(path, node.position, "\(quoted(name)) is not a valid header name (RFC 9110 token)")
                return nil
            }
            return .header(name.lowercased())
        }
        if text.hasPrefix("claim:") {
            let name = String(text.dropFirst(6))
            guard !name.isEmpty else {
                error(path, node.position, "give the claim's name: \"claim:<name>\", e.g. \"claim:sub\"")
                return nil
            }
            if jwt == nil {
                error(
                    path, node.position,
                    "key \(quoted(text)) needs a verified token, but no JWT applies here (public route, or no \"jwt\")")
                return nil
            }
            return .claim(name)
        }
        let known = ["client_ip", "route", "header:<name>", "claim:<name>"]
        error(path, node.position, "unknown key \(quoted(text))\(Suggestion.hint(for: text, in: known)); use one of "
            + known.map { quoted($0) }.joined(separator: ", "))
        return nil
    }

    /// `max_in_flight`: a positive integer or `"adaptive"`.
    func decodeMaxInFlight(_ upstream: ObjectNode) -> MaxInFlightConfig? {
        guard let member = upstream["max_in_flight"], !member.value.isNull else { return nil }
        let path = upstream.path("max_in_flight")
        if member.value.stringValue != nil {
            return choice(member.value, path, ["adaptive"]).map { _ in .adaptive }
        }
        return int(member.value, path, 1...1_000_000, what: "a positive integer or \"adaptive\"").map { .fixed($0) }
    }

    /// A listener's `rate_limit` applies to every route; a `claim:` key needs a token on each of them.
    func checkListenerClaimKey(_ limit: RateLimitConfig?, _ node: JSONNode?, _ path: String, routes: [RouteConfig]) {
        guard let limit, case .claim = limit.key, let node else { return }
        let open = routes.filter { $0.jwt == nil }.map(\.name)
        guard !open.isEmpty else { return }
        error(
            ConfigDecoder.join(path, "key"), node["key"]?.position ?? node.position,
            "key \(quoted(limit.key.text)) needs a verified token, but these routes have no JWT: "
                + open.map { quoted($0) }.joined(separator: ", "))
    }
}
