import Foundation
import MeshHTTP1
import MeshProxy
import Testing

/// SPEC §4's rules for the head sent upstream, checked exhaustively over every owned and trusted name and its
/// spellings (the integration suite checks the same boundary end to end over generated requests).
@Suite struct TrustBoundaryTests {
    static let route = #"{"match": {"path_prefix": "/"}, "upstream": "app", "public": true}"#
    static let listener = #", "jwt": {"provider": "idp", "claims_to_headers": {"sub": "x-user-id"}}"#
    static let owned = TrustBoundary.gatewayOwned.map { String(decoding: $0, as: UTF8.self) } + ["x-user-id"]
    static let hopByHop = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "expect"]

    /// Every way a client might spell `name`: as is, upper case, `_` for `-`, and mixed.
    static func spellings(_ name: String) -> [String] {
        let underscored = name.replacingOccurrences(of: "-", with: "_")
        return [name, name.uppercased(), underscored, underscored.uppercased(), name.capitalized]
    }

    func violation(_ request: String) throws -> GatewayError? {
        let config = try routesConfig([Self.route], listenerExtra: Self.listener)
        return try withRequest(request) { TrustBoundary.violation($0, trusted: config.listeners[0].trustedNames) }
    }

    /// The upstream head for `request`, nil when it did not fit in `capacity` bytes.
    func head(_ request: String, capacity: Int = 65536) throws -> String? {
        let config = try routesConfig([Self.route], listenerExtra: Self.listener)
        let route = config.listeners[0].routes[0]
        return try withRequest(request) { view in
            let path = try normalized(view)
            var out = [UInt8](repeating: 0, count: capacity)
            let context = RequestHeadBuilder.Context(clientIP: Array("10.0.0.7".utf8), endpointAuthority: [])
            let count = path.withUnsafeBytes { p in
                out.withUnsafeMutableBytes { o in
                    var w = HeadWriter(o)
                    RequestHeadBuilder.write(
                        view, route: route, normalizedPath: p, context: context,
                        tunnel: TrustBoundary.allowsTunnel(view), into: &w)
                    return w.overflowed ? -1 : w.count
                }
            }
            return count < 0 ? nil : String(decoding: out[0..<count], as: UTF8.self)
        }
    }

    // Regression: issue 10 — `Connection: keep-alive, Content-Length` dropped the framing and smuggled the body.
    @Test(arguments: owned.flatMap(spellings))
    func connectionNamingAnOwnedOrTrustedFieldIsRefused(token: String) throws {
        let request = "POST /x HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, \(token)\r\nContent-Length: 2\r\n\r\n"
        #expect(try violation(request) == .badRequest)
    }

    @Test(arguments: hopByHop.flatMap(spellings) + ["x-custom", "close", "Upgrade", "foo_bar"])
    func connectionNamingOtherFieldsIsAllowedAndTheyAreNotForwarded(token: String) throws {
        let request = "GET /x HTTP/1.1\r\nHost: h\r\nConnection: \(token)\r\nX-Custom: 1\r\nX-Kept: 2\r\n\r\n"
        #expect(try violation(request) == nil)
        let sent = try #require(try head(request)).lowercased()
        #expect(!sent.contains("connection:") && sent.contains("x-kept: 2"))
        #expect(sent.contains("x-custom") == (token.lowercased() != "x-custom"))
    }

    @Test(arguments: (owned + hopByHop).flatMap(spellings).filter { $0.contains("_") })
    func underscoreSpellingsOfOwnedFieldsAreDropped(name: String) throws {
        let sent = try #require(try head("GET /x HTTP/1.1\r\nHost: h\r\n\(name): spoof\r\nX-A_b: kept\r\n\r\n"))
        #expect(!sent.contains("spoof"), "\(name) forwarded:\n\(sent)")
        #expect(sent.contains("X-A_b: kept\r\n"), "an unrelated `_` field must pass")
    }

    @Test(arguments: [
        ("Content-Length: 5\r\n", "content-length: 5\r\n"), ("Content-Length: 0\r\n", "content-length: 0\r\n"),
        ("Content-Length: 5, 5\r\n", "content-length: 5\r\n"),
        ("Transfer-Encoding: chunked\r\n", "transfer-encoding: chunked\r\n"), ("", ""),
    ])
    func framingIsWrittenByTheGatewayOnce(field: String, expected: String) throws {
        let sent = try #require(try head("POST /x HTTP/1.1\r\nHost: h\r\n\(field)X-A: 1\r\n\r\n")).lowercased()
        let framing = sent.split(separator: "\r\n").filter {
            $0.hasPrefix("content-length") || $0.hasPrefix("transfer-encoding")
        }
        #expect(framing.map { $0 + "\r\n" } == (expected.isEmpty ? [] : [Substring(expected)]), "\(sent)")
        #expect(sent.components(separatedBy: "\r\nhost: ").count == 2, "host must appear exactly once")
    }

    // Regression: issue 10 (found by the request-head fuzzer) — `x -foo` is not a token: which field it names
    // depends on who reads it, so the request is refused rather than guessed at.
    @Test(arguments: ["x -foo", "keep-alive, x\"y", "a/b", "x-foo, ,", "close,,x-custom"])
    func connectionElementsMustBeTokens(value: String) throws {
        let refused = value.contains(" -") || value.contains("\"") || value.contains("/")
        let request = "GET / HTTP/1.1\r\nHost: h\r\nConnection: \(value)\r\nX-Foo: 1\r\n\r\n"
        #expect(try violation(request) == (refused ? .badRequest : nil), "\(value)")
    }

    @Test func aSecondAuthorizationIsRefused() throws {
        #expect(try violation("GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer a\r\n\r\n") == nil)
        #expect(
            try violation("GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer a\r\nauthorization: Bearer b\r\n\r\n")
                == .badRequest)
    }

    // Regression: issue 10 — a ~34 KB Host overflowed the rebuilt head, which was dropped while the body went on.
    @Test func longHostsAreRefusedAndAHeadThatDoesNotFitIsNeverPartial() throws {
        let atLimit = String(repeating: "a", count: TrustBoundary.maxAuthorityBytes)
        #expect(try violation("GET / HTTP/1.1\r\nHost: \(atLimit)\r\n\r\n") == nil)
        #expect(try violation("GET / HTTP/1.1\r\nHost: \(atLimit)a\r\n\r\n") == .badRequest)
        let request = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: \(String(repeating: "b", count: 3000))\r\n\r\n"
        let whole = try #require(try head(request))
        #expect(try head(request, capacity: whole.utf8.count) == whole)
        #expect(try head(request, capacity: whole.utf8.count - 1) == nil)
    }

    @Test(arguments: [
        ("Connection: Upgrade\r\nUpgrade: websocket\r\n", true), ("Connection: upgrade\r\nUpgrade: WebSocket\r\n", true),
        ("Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n", false),
        ("Connection: Upgrade\r\nUpgrade: websocket, h2c\r\n", false),
        ("Connection: Upgrade\r\nUpgrade: websocket\r\nUpgrade: h2c\r\n", false), ("Upgrade: websocket\r\n", false),
    ])
    func onlyWebSocketUpgradesTunnel(fields: String, tunnels: Bool) throws {
        let sent = try #require(try head("GET /ws HTTP/1.1\r\nHost: h\r\n\(fields)\r\n")).lowercased()
        #expect(sent.contains("upgrade:") == tunnels && sent.contains("connection: upgrade") == tunnels, "\(sent)")
        #expect(!sent.contains("http2-settings"))
    }

    @Test(arguments: ["api.example.com", "API.example.com.", "api.example.com.:8080"])
    func trailingDotHostsMatchTheirRoute(host: String) throws {
        let config = try routesConfig([
            #"{"name": "p", "match": {"path_prefix": "/", "host": "api.example.com"}, "upstream": "app"}"#,
            #"{"name": "open", "match": {"path_prefix": "/"}, "upstream": "other", "public": true}"#,
        ])
        let matched = try withRequest("GET /x HTTP/1.1\r\nHost: \(host)\r\n\r\n") { view in
            try normalized(view).withUnsafeBytes { Router.match(config.listeners[0].routes, request: view, path: $0) }
        }
        #expect(matched?.config.name == "p")
    }
}
