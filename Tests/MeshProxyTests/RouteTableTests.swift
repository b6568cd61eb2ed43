import MeshHTTP1
import MeshProxy
import MeshTestSupport
import Testing

/// The route trie against the linear first-match scan it replaces, on random route sets and requests: both must
/// pick the same route (SPEC §3: first match wins), always.
@Suite struct RouteTableTests {
    /// Few distinct segments, so routes overlap, shadow each other and share trie nodes.
    static let segments = ["a", "b", "api", "v1", "users", "x-y", "~z"]
    static let hosts = ["api.example.com", "other.test", "a.example.com"]

    static func randomPath(_ rng: inout SplitMix64, trailingSlash: Bool) -> String {
        let count = Int.random(in: 0...3, using: &rng)
        let path = "/" + (0..<count).map { _ in segments.randomElement(using: &rng)! }.joined(separator: "/")
        return trailingSlash && count > 0 && Int.random(in: 0..<4, using: &rng) == 0 ? path + "/" : path
    }

    static func randomRoute(_ rng: inout SplitMix64, index: Int) -> String {
        var match: [String] = []
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: match.append("\"path\": \"\(randomPath(&rng, trailingSlash: true))\"")
        case 1: match.append("\"path_prefix\": \"\(randomPath(&rng, trailingSlash: false))\"")
        default:
            let count = Int.random(in: 1...3, using: &rng)
            let parts = (0..<count).map { k in
                Bool.random(using: &rng) ? "{p\(k)}" : segments.randomElement(using: &rng)!
            }
            match.append("\"path_template\": \"/\(parts.joined(separator: "/"))\"")
        }
        if Int.random(in: 0..<3, using: &rng) == 0 {
            let methods = ["GET", "POST", "PUT"].filter { _ in Bool.random(using: &rng) }
            if !methods.isEmpty { match.append("\"methods\": [\(methods.map { "\"\($0)\"" }.joined(separator: ","))]") }
        }
        switch Int.random(in: 0..<5, using: &rng) {
        case 0: match.append("\"host\": \"\(hosts.randomElement(using: &rng)!)\"")
        case 1: match.append("\"host\": \"*.example.com\"")
        default: break
        }
        if Int.random(in: 0..<6, using: &rng) == 0 { match.append("\"headers\": {\"x-canary\": \"1\"}") }
        return "{\"name\": \"r\(index)\", \"match\": {\(match.joined(separator: ", "))}, \"upstream\": \"app\"}"
    }

    @Test(arguments: 0..<40)
    func trieAndLinearScanAgree(seed: Int) throws {
        var rng = SplitMix64(state: UInt64(seed) &* 0x1000_0001)
        let routes = (0..<Int.random(in: 1...40, using: &rng)).map { Self.randomRoute(&rng, index: $0) }
        let config = try routesConfig(routes)
        let listener = config.listeners[0]
        for _ in 0..<200 {
            let method = ["GET", "POST", "PUT", "DELETE"].randomElement(using: &rng)!
            let host = (Self.hosts + ["b.example.com", "example.com"]).randomElement(using: &rng)!
            let canary = Int.random(in: 0..<3, using: &rng) == 0 ? "X-Canary: 1\r\n" : ""
            let path = Self.randomPath(&rng, trailingSlash: true)
            let request = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\n\(canary)\r\n"
            let (viaTable, viaScan) = try withRequest(request) { view in
                try normalized(view).withUnsafeBytes { p in
                    (listener.table.match(view, path: p), Router.match(listener.routes, request: view, path: p))
                }
            }
            #expect(viaTable === viaScan, "\(request) → \(viaTable?.config.name ?? "none") vs \(viaScan?.config.name ?? "none")\n\(routes)")
        }
    }

    @Test func tenThousandPrefixRoutesStillFindTheirOwn() throws {
        let routes = (0..<10_000).map { "{\"match\": {\"path_prefix\": \"/r\($0)\"}, \"upstream\": \"app\"}" }
            + ["{\"name\": \"hello\", \"match\": {\"path\": \"/hello\"}, \"upstream\": \"app\"}"]
        let listener = try routesConfig(routes).listeners[0]
        for (path, expected) in [("/hello", 10_000), ("/r9999/x", 9999), ("/r0", 0), ("/r10000", -1)] {
            let matched = try withRequest("GET \(path) HTTP/1.1\r\nHost: h\r\n\r\n") { view in
                try normalized(view).withUnsafeBytes { listener.table.match(view, path: $0) }
            }
            #expect((matched.map { $0.index } ?? -1) == expected, "\(path)")
        }
    }
}
