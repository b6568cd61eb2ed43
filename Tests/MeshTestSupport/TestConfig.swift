/// Builds gateway configs (SPEC §3) for tests: one listener on 127.0.0.1:`port`, `admin` null.
public enum TestConfig {
    /// A config with `routes` (JSON object texts) and `upstreams` (name → single endpoint port); `limits` and
    /// `upstreamExtra` (extra members of every upstream object, e.g. `"pool": {...}`) are raw JSON fragments.
    public static func json(
        port: UInt16, routes: [String], upstreams: [String: UInt16], limits: String = "{}",
        upstreamExtra: String = ""
    ) -> String {
        let upstreamText = upstreams.sorted { $0.key < $1.key }.map { name, endpoint in
            let extra = upstreamExtra.isEmpty ? "" : ", " + upstreamExtra
            return "\"\(name)\": { \"endpoints\": [\"127.0.0.1:\(endpoint)\"]\(extra) }"
        }.joined(separator: ",\n    ")
        return """
            {
              "version": 1,
              "admin": null,
              "listeners": [
                { "name": "test", "address": "127.0.0.1:\(port)",
                  "routes": [
                    \(routes.joined(separator: ",\n        "))
                  ] }
              ],
              "upstreams": {
                \(upstreamText)
              },
              "limits": \(limits),
              "logging": { "level": "info", "access_log": true },
              "watch_config": false
            }
            """
    }

    /// A route JSON object sending `path_prefix` to `upstream`, with extra members appended (raw JSON).
    public static func route(_ pathPrefix: String, to upstream: String, _ extra: String = "") -> String {
        let tail = extra.isEmpty ? "" : ", " + extra
        return "{ \"match\": { \"path_prefix\": \"\(pathPrefix)\" }, \"upstream\": \"\(upstream)\"\(tail) }"
    }
}
