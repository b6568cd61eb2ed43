import MeshJSON

/// A route's `retry`, `fallback` and header edits.
extension ConfigDecoder {
    static let retryKeys = ["retries", "on", "statuses", "backoff_base_ms", "backoff_max_ms"]

    /// Omitted fields take the defaults, so `{"retries": 0}` is "off" and `{"retries": 3}` keeps the default `on`.
    func decodeRetry(_ node: JSONNode, _ path: String) -> RetryConfig {
        guard let retry = object(node, path, allowed: Self.retryKeys) else { return Defaults.retry }
        // More than 10 retries multiplies load on an upstream that is already failing.
        let retries = int(retry, "retries", 0...10, what: "an integer from 0 to 10") ?? Defaults.retries
        var on: [RetryOn] = []
        if let items = array(retry, "on") {
            for item in items {
                guard let value = choice(item.node, item.path, RetryOn.allCases.map(\.rawValue)),
                    let reason = RetryOn(rawValue: value)
                else { continue }
                if !on.contains(reason) { on.append(reason) }
            }
        } else {
            on = Defaults.retryOn
        }
        var statuses: [Int] = []
        for item in array(retry, "statuses") ?? [] {
            guard let status = int(item.node, item.path, 100...599, what: "an HTTP status code") else { continue }
            if !statuses.contains(status) { statuses.append(status) }
        }
        let base = duration(retry, "backoff_base_ms") ?? Defaults.backoffBaseMs
        let maximum = duration(retry, "backoff_max_ms") ?? Defaults.backoffMaxMs
        if base > maximum {
            let key = retry["backoff_base_ms"] != nil ? "backoff_base_ms" : "backoff_max_ms"
            error(
                retry.path(key), retry[key]?.value.position,
                "backoff_base_ms (\(base)) must not exceed backoff_max_ms (\(maximum))")
        }
        return RetryConfig(retries: retries, on: on, statuses: statuses, backoffBaseMs: base, backoffMaxMs: maximum)
    }

    func decodeFallback(_ node: JSONNode, _ path: String) -> FallbackConfig? {
        guard let fallback = object(node, path, allowed: ["status", "headers", "body", "on"]) else { return nil }
        // 1xx cannot end an exchange, so a fallback answers with a final status.
        let status = required(fallback, "status").flatMap {
            int($0.value, fallback.path("status"), 200...599, what: "an HTTP status code")
        }
        var on: [FallbackOn] = []
        if let items = array(fallback, "on", nonEmpty: true) {
            for item in items {
                guard let value = choice(item.node, item.path, FallbackOn.allCases.map(\.rawValue)),
                    let reason = FallbackOn(rawValue: value)
                else { continue }
                if !on.contains(reason) { on.append(reason) }
            }
        } else {
            on = Defaults.fallbackOn
        }
        let body = string(fallback, "body", nonEmpty: false) ?? Defaults.fallbackBody
        return status.map {
            FallbackConfig(
                status: $0, headers: headerPairs(fallback, "headers", reserved: ReservedHeaders.response), body: body,
                on: on)
        }
    }

    /// `{"set": {name: value}, "remove": [name]}`; names in `reserved` (`ReservedHeaders`) are refused.
    func decodeHeaderEdits(_ node: JSONNode, _ path: String, reserved: Set<String>) -> HeaderEditsConfig {
        guard let edits = object(node, path, allowed: ["set", "remove"]) else { return .none }
        var remove: [String] = []
        for item in strings(edits, "remove") ?? [] {
            guard Syntax.isToken(item.value) else {
                error(
                    item.path, item.node.position, "\(quoted(item.value)) is not a valid header name (RFC 9110 token)")
                continue
            }
            if let canonical = ReservedHeaders.reserved(item.value, in: reserved) {
                error(
                    item.path, item.node.position,
                    ReservedHeaders.message(item.value, canonical: canonical, what: "removed"))
                continue
            }
            remove.append(item.value.lowercased())
        }
        return HeaderEditsConfig(set: headerPairs(edits, "set", reserved: reserved), remove: remove)
    }
}
