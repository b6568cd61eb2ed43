extension TestConfig {
    /// A whole config (SPEC §3) with every section given as raw JSON text, for tests that need more than
    /// `json(...)`: several endpoints per upstream, an admin listener, JWT providers, a listener-wide `jwt`.
    /// - `upstreams`: name → the upstream object's text (see `upstream(_:_:)`).
    /// - `adminPort`: nil turns the admin listener off.
    /// - `listenerJWT`: the listener's `jwt` rule object text, or nil.
    /// - `tracing`: the `tracing` object text.
    /// - `listenerExtra`: more members of the listener object (raw JSON, e.g. `"tls": {...}`).
    public static func document(
        port: UInt16, adminPort: UInt16? = nil, routes: [String], upstreams: [String: String],
        providers: String = "{}", listenerJWT: String? = nil, limits: String = "{}", accessLog: Bool = true,
        tracing: String = "{}", listenerExtra: String = ""
    ) -> String {
        let admin = adminPort.map { "{ \"address\": \"127.0.0.1:\($0)\" }" } ?? "null"
        let jwt = listenerJWT.map { "\"jwt\": \($0),\n" } ?? ""
        let extra = listenerExtra.isEmpty ? "" : listenerExtra + ",\n"
        let upstreamText = upstreams.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }
            .joined(separator: ",\n    ")
        return """
            {
              "version": 1,
              "admin": \(admin),
              "listeners": [
                { "name": "test", "address": "127.0.0.1:\(port)",
                  \(jwt)\(extra)"routes": [
                    \(routes.joined(separator: ",\n        "))
                  ] }
              ],
              "upstreams": {
                \(upstreamText)
              },
              "jwt_providers": \(providers),
              "limits": \(limits),
              "tracing": \(tracing),
              "logging": { "level": "info", "access_log": \(accessLog) },
              "watch_config": false
            }
            """
    }

    /// An upstream object with `endpoints` on 127.0.0.1 and extra members (raw JSON, e.g. `"pool": {...}`).
    public static func upstream(_ ports: [UInt16], _ extra: String = "") -> String {
        let endpoints = ports.map { "\"127.0.0.1:\($0)\"" }.joined(separator: ", ")
        let tail = extra.isEmpty ? "" : ", " + extra
        return "{ \"endpoints\": [\(endpoints)]\(tail) }"
    }
}
