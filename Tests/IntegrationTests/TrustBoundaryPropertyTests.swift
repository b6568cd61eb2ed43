import Glibc
import MeshTestSupport
import Testing

/// SPEC §4 "The head sent upstream", stated as a property over generated requests rather than the two smuggling
/// requests that once worked (issue 10): the recording upstream receives exactly the requests the client sent
/// through a route — same method, normalized path, body bytes — each with the gateway's framing and host, none of
/// the client's copies of owned or trusted fields in any spelling, no trailers, and nothing else. Requests the
/// gateway must refuse get a 400 JSON error and never reach the upstream.
@Suite struct TrustBoundaryPropertyTests {
    /// What the model says the gateway does with a generated request.
    enum Expected: Equatable {
        case forwarded
        case refused([Int])
        /// Near the header limit either answer is right; which one depends on the gateway's own additions.
        case forwardedOrRefused(Int)
    }

    /// One generated request and what must come of it.
    struct Case {
        var bytes: [UInt8] = []
        var method = "GET"
        var target = "/"
        var expectedTarget = "/"
        var host = "svc.test"
        var body: [UInt8] = []
        var framing = "none"  // "none" | "length" | "chunked"
        /// Client fields the upstream must receive, in order (name, value).
        var kept: [(String, String)] = []
        var connectionClose = false
        var expected = Expected.forwarded
    }

    /// Fields the gateway owns or trusts, as the oracle knows them (SPEC §4 and docs/security.md), lowercase.
    static let owned: Set<String> = [
        "content-length", "transfer-encoding", "host", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host",
        "forwarded", "x-request-id", "traceparent", "tracestate", "x-meshgate-deadline-ms", "authorization",
        "x-user-id", "x-forwarded-client-cert",
    ]
    static let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"]

    static func folded(_ name: String) -> String { name.lowercased().replacingOccurrences(of: "_", with: "-") }

    static let config = """
        {"version": 1, "admin": null,
         "listeners": [{"name": "edge", "address": "127.0.0.1:PORT",
           "jwt": {"provider": "idp", "claims_to_headers": {"sub": "x-user-id"}},
           "routes": [{"name": "api", "match": {"path_prefix": "/"}, "upstream": "app", "public": true,
                       "retry": {"retries": 0}}]}],
         "upstreams": {"app": {"endpoints": ["127.0.0.1:UPSTREAM"]}},
         "jwt_providers": {"idp": {"issuer": "i", "jwks": {"inline": {"keys": []}}}},
         "logging": {"level": "warn", "access_log": false}, "watch_config": false}
        """

    /// The same property over TLS (issue 11): the client's bytes reach the gateway through a TLS relay, so request
    /// boundaries fall anywhere within and across TLS records.
    @Test(arguments: [0x7472_7573_7431 as UInt64, 0x6D65_7368_6761_7465, 0x0000_0000_0000_0010], [false, true])
    func upstreamReceivesExactlyTheRoutedRequests(seed: UInt64, overTLS: Bool) throws {
        let upstream = try TestUpstream(.echo)
        defer { upstream.shutdown() }
        let port = try TestSocket.freePort()
        let pki = TestPKI.shared
        let tls =
            "\"tls\": {\"certificates\": [{\"cert_file\": \"\(pki.path("localhost.crt"))\", "
            + "\"key_file\": \"\(pki.path("localhost.key"))\"}]},"
        let json = Self.config.replacingOccurrences(of: "UPSTREAM", with: "\(upstream.port)")
            .replacingOccurrences(of: "PORT", with: "\(port)")
            .replacingOccurrences(of: "\"jwt\": {\"provider\"", with: (overTLS ? tls : "") + "\"jwt\": {\"provider\"")
        let gateway = try GatewayProcess(configJSON: json, port: port)
        defer { _ = gateway.stop() }
        let relay = try overTLS ? TLSRelay(target: port, caFile: pki.path("ca.crt")) : nil
        let clientPort = relay?.port ?? port

        var rng = SplitMix64(state: seed)
        var client = try RawClient(port: clientPort)
        var forwarded: [Case] = []
        for index in 0..<150 {
            let c = TrustBoundaryRequestGenerator.generate(&rng, index: index)
            try client.send(c.bytes)
            let response = try client.readResponse(method: c.method)
            let context = "case \(index) (seed \(seed)):\n\(String(decoding: c.bytes.prefix(1500), as: UTF8.self))"
            switch c.expected {
            case .forwarded:
                #expect(response.status == 200, "\(context)\n→ \(response.head.text)")
                forwarded.append(c)
            case .refused(let statuses):
                #expect(statuses.contains(response.status), "\(context)\n→ \(response.head.text)")
                #expect(response.jsonString("error") != nil, "\(context)")
            case .forwardedOrRefused(let status):
                #expect(response.status == 200 || response.status == status, "\(context)\n→ \(response.head.text)")
                if response.status == 200 { forwarded.append(c) }
            }
            let received = upstream.waitForRequests(forwarded.count, timeoutMs: 2000)
            #expect(received.count == forwarded.count, "\(context)\nupstream got \(received.suffix(2))")
            if response.status == 200, let last = received.last, received.count == forwarded.count {
                Self.check(last, against: c, context: context)
            }
            if response.status != 200 || c.connectionClose || response.header("connection") == "close" {
                client.close()
                client = try RawClient(port: clientPort)
            }
        }
        // Nothing arrived that was not sent through the route: no smuggled second request on any connection.
        #expect(upstream.requests.count == forwarded.count)
        #expect(!upstream.requests.contains { $0.target.hasPrefix("/smuggled") })
        #expect(gateway.isRunning)
        #expect(relay?.errors.isEmpty ?? true, "\(relay?.errors ?? "")")
    }

    /// The upstream's copy of a forwarded request, against the model.
    static func check(_ got: ReceivedRequest, against c: Case, context: String) {
        let head = got.head
        #expect(got.method == c.method && got.target == c.expectedTarget, "\(context)\nupstream: \(head.text)")
        #expect(got.body == c.body, "\(context)\nbody \(got.bodyCount) bytes, expected \(c.body.count)")
        #expect(head.headers("host") == [c.host], "\(context)\n\(head.text)")
        switch c.framing {
        case "length":
            #expect(head.headers("content-length") == ["\(c.body.count)"] && !head.has("transfer-encoding"),
                    "\(context)\n\(head.text)")
        case "chunked":
            #expect(head.headers("transfer-encoding") == ["chunked"] && !head.has("content-length"),
                    "\(context)\n\(head.text)")
            #expect(got.trailers.isEmpty, "trailers forwarded: \(got.trailers)\n\(context)")
        default:
            #expect(!head.has("content-length") && !head.has("transfer-encoding"), "\(context)\n\(head.text)")
        }
        // The gateway's own fields, once each; the client's spoofs in no spelling.
        for name in ["x-forwarded-for", "x-request-id", "traceparent", "x-meshgate-deadline-ms"] {
            #expect(head.headers(name).count == 1, "\(name) not exactly once\n\(context)\n\(head.text)")
        }
        #expect(head.header("x-forwarded-for") == "127.0.0.1", "\(context)\n\(head.text)")
        for field in head.fields {
            let name = folded(field.name)
            #expect(!(field.name.contains("_") && (owned.contains(name) || hopByHop.contains(name))),
                    "disguised \(field.name) forwarded\n\(context)")
            #expect(!hopByHop.contains(name) && name != "forwarded" && name != "x-user-id" && name != "http2-settings"
                    && name != "x-forwarded-client-cert",
                    "\(field.name) forwarded\n\(context)")
        }
        let clientFields = head.fields.filter { $0.name.lowercased().hasPrefix("x-field-") }.map { ($0.name, $0.value) }
        #expect(clientFields.map(\.0) == c.kept.map(\.0) && clientFields.map(\.1) == c.kept.map(\.1),
                "client fields \(clientFields) != \(c.kept)\n\(context)")
    }
}
