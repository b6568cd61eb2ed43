import Foundation
import Glibc
import MeshTestSupport
import MeshJSON
import Testing

/// The three backends behind a real `meshgate run` child, configured by a copy of the top-level routes.json moved
/// to free ports, with optional text edits (a shorter breaker `open_ms`, say). It keeps the admin port, so a test
/// can read `/metrics` and `/upstreams`, and it waits for `/readyz` (the JWKS is loaded) before the first request.
/// The end-to-end tests use it too.
///
/// (The file is named `…Tests.swift` to stay inside the test target's naming scheme for this area; the smoke test
/// at the end checks the helpers themselves.)
final class DegradationStack {
    let auth: ServiceProcess
    let profile: ServiceProcess
    let relationships: ServiceProcess
    let gateway: MeshgateRun
    let edgePort: UInt16
    let adminPort: UInt16
    let directory: String

    /// The top-level routes.json, as shipped.
    static func shippedConfig() throws -> String {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("routes.json")
        return try String(contentsOf: source, encoding: .utf8)
    }

    /// `edits` are (exact text, replacement) pairs applied to the shipped file before the ports move; each must
    /// match, so a test never silently runs on a config it did not mean.
    init(edits: [(String, String)] = [], workers: Int = 2) throws {
        auth = try ServiceProcess("auth-service")
        profile = try ServiceProcess("profile-service")
        relationships = try ServiceProcess("relationship-service")
        directory = try ServiceProcess.temporaryDirectory("degrade")
        edgePort = try TestSocket.freePort()
        adminPort = try TestSocket.freePort()
        var config = try Self.shippedConfig()
        for (text, replacement) in edits {
            guard config.contains(text) else { throw TestSupportError("routes.json lacks \(text)") }
            config = config.replacingOccurrences(of: text, with: replacement)
        }
        config =
            config
            .replacingOccurrences(of: "\"$schema\": \"./routes.schema.json\",", with: "")
            .replacingOccurrences(of: "127.0.0.1:9101", with: "127.0.0.1:\(auth.port)")
            .replacingOccurrences(of: "127.0.0.1:9102", with: "127.0.0.1:\(profile.port)")
            .replacingOccurrences(of: "127.0.0.1:9103", with: "127.0.0.1:\(relationships.port)")
            .replacingOccurrences(of: "127.0.0.1:8080", with: "127.0.0.1:\(edgePort)")
            .replacingOccurrences(of: "127.0.0.1:9901", with: "127.0.0.1:\(adminPort)")
        try config.write(toFile: directory + "/routes.json", atomically: true, encoding: .utf8)
        gateway = try MeshgateRun(
            config: directory + "/routes.json", arguments: ["--workers", "\(workers)"],
            logPath: directory + "/gateway.log")
        // Admin `/readyz` is 200 (listeners bound, JWKS loaded) and the edge answers.
        try gateway.waitReady(adminPort: adminPort, "meshgate") { [edgePort] in
            (try? HTTPClient.request(port: edgePort, "GET", "/auth/.well-known/jwks.json"))?.status == 200
        }
    }

    deinit {
        gateway.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func log() -> String { gateway.log() }

    /// One request to the edge listener, with a bearer token and a JSON or raw body when given.
    func call(
        _ method: String,
        _ path: String,
        token: String? = nil,
        json: String? = nil,
        body: [UInt8]? = nil,
        headers: [(String, String)] = []
    ) throws -> HTTPReply {
        var all = headers
        if let token { all.append(("authorization", "Bearer \(token)")) }
        if let json { return try HTTPClient.json(port: edgePort, method, path, json, headers: all) }
        return try HTTPClient.request(port: edgePort, method, path, headers: all, body: body)
    }

    /// Registers `user` and returns a fresh access token.
    func login(_ user: String) throws -> String {
        let credentials = #"{"username":"\#(user)","password":"\#(user)-password"}"#
        let register = try call("POST", "/auth/register", json: credentials)
        #expect(register.status == 201, "register \(user): \(register.text)")
        let login = try call("POST", "/auth/login", json: credentials)
        #expect(login.status == 200, "login \(user): \(login.text)")
        return try #require(login.json?["access_token"]?.stringValue)
    }

    /// The admin listener's `/metrics` text.
    func metricsText() throws -> String {
        let reply = try HTTPClient.request(port: adminPort, "GET", "/metrics")
        guard reply.status == 200 else { throw TestSupportError("/metrics: \(reply.status)") }
        return reply.text
    }

    /// The sum of every `name` series whose labels include `labels`; nil when no series matches.
    func metric(_ name: String, _ labels: [String: String] = [:]) throws -> Double? {
        Self.sum(of: name, labels, in: try metricsText())
    }

    /// Parses Prometheus text (0.0.4) lines `name{k="v",...} value` and sums the matching ones.
    static func sum(of name: String, _ labels: [String: String], in text: String) -> Double? {
        var total: Double?
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count >= 2, let value = Double(parts[1]) else { continue }
            let series = parts[0]
            let brace = series.firstIndex(of: "{")
            guard series[..<(brace ?? series.endIndex)] == name else { continue }
            var found: [String: String] = [:]
            if let brace {
                let inner = series[series.index(after: brace)..<(series.lastIndex(of: "}") ?? series.endIndex)]
                for pair in inner.split(separator: ",") {
                    guard let equals = pair.firstIndex(of: "=") else { continue }
                    found[String(pair[..<equals])] = String(pair[pair.index(after: equals)...]).trimmingCharacters(
                        in: CharacterSet(charactersIn: "\"")
                    )
                }
            }
            if labels.allSatisfy({ found[$0.key] == $0.value }) { total = (total ?? 0) + value }
        }
        return total
    }

    /// The `breaker` of `upstream`'s first endpoint in the admin `/upstreams` document.
    func breakerInUpstreams(_ upstream: String) throws -> String? {
        let reply = try HTTPClient.request(port: adminPort, "GET", "/upstreams")
        let entry = reply.json?["upstreams"]?.arrayValue?.first { $0["name"]?.stringValue == upstream }
        return entry?["endpoints"]?.arrayValue?.first?["breaker"]?.stringValue
    }
}

@Suite struct DegradationStackTests {
    /// The metric reader sums matching series and ignores comments, other names and other label values.
    @Test func metricSumMatchesNameAndLabelSubset() {
        let text = """
            # HELP meshgate_upstream_requests_total x
            # TYPE meshgate_upstream_requests_total counter
            meshgate_upstream_requests_total{upstream="profile",endpoint="127.0.0.1:1",outcome="connect_failure"} 3
            meshgate_upstream_requests_total{upstream="profile",endpoint="127.0.0.1:2",outcome="connect_failure"} 2
            meshgate_upstream_requests_total{upstream="profile",endpoint="127.0.0.1:1",outcome="success"} 7
            meshgate_upstream_requests_total_extra{upstream="profile",outcome="connect_failure"} 100
            process_open_fds 12
            """
        let failures = DegradationStack.sum(
            of: "meshgate_upstream_requests_total",
            ["upstream": "profile", "outcome": "connect_failure"],
            in: text
        )
        #expect(failures == 5)
        #expect(DegradationStack.sum(of: "meshgate_upstream_requests_total", [:], in: text) == 12)
        #expect(DegradationStack.sum(of: "process_open_fds", [:], in: text) == 12)
        #expect(DegradationStack.sum(of: "meshgate_upstream_requests_total", ["upstream": "auth"], in: text) == nil)
    }
}
