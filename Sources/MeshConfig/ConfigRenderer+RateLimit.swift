import MeshJSON

/// SPEC §11 parts of `ConfigRenderer`: `rate_limits`, `rate_limit`, `max_in_flight`.
extension ConfigRenderer {
    static func rateLimitsJSON(_ limits: RateLimitsConfig, _ w: inout JSONWriter) {
        w.key("rate_limits")
        w.beginObject()
        w.key("store")
        if let store = limits.store {
            w.beginObject()
            w.key("redis")
            w.string(store.redis.description)
            w.key("timeout_ms")
            w.number(store.timeoutMs)
            w.key("on_error")
            w.string(store.onError.rawValue)
            w.endObject()
        } else {
            w.null()
        }
        w.endObject()
    }

    static func rateLimitJSON(_ limit: RateLimitConfig?, _ w: inout JSONWriter) {
        guard let limit else { return }
        w.key("rate_limit")
        w.beginObject()
        w.key("key")
        w.string(limit.key.text)
        w.key("requests_per_second")
        if limit.requestsPerSecond == limit.requestsPerSecond.rounded(), limit.requestsPerSecond < 1e15 {
            w.number(Int(limit.requestsPerSecond))
        } else {
            w.number(limit.requestsPerSecond)
        }
        w.key("burst")
        w.number(limit.burst)
        w.key("scope")
        w.string(limit.scope.rawValue)
        w.key("max_keys")
        w.number(limit.maxKeys)
        w.endObject()
    }

    static func maxInFlightJSON(_ value: MaxInFlightConfig?, _ w: inout JSONWriter) {
        guard let value else { return }
        w.key("max_in_flight")
        switch value {
        case .fixed(let limit): w.number(limit)
        case .adaptive: w.string("adaptive")
        }
    }
}
