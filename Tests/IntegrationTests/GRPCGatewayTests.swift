import Foundation
import Glibc
import MeshTestSupport
import Testing

/// gRPC through the gateway (SPEC §10) between two independent implementations: Python `grpcio`'s client over
/// h2c to the gateway's plaintext listener, and a `grpcio` server behind an `h2c` upstream. Every call shape,
/// the deadline, the gateway's own errors as gRPC statuses, retries and the breaker on UNAVAILABLE, JWT, and a
/// call routed to an HTTP/1 upstream.
@Suite struct GRPCGatewayTests {
    /// Routes by service: `Retried` retries UNAVAILABLE twice; `Slow` has a 300 ms `timeout_ms`; `Secure` needs
    /// a JWT from `idp`; `Breaker` goes to an upstream whose breaker opens after 3 failures; `Plain` goes to an
    /// HTTP/1 upstream; everything else to the gRPC server without retries.
    static func bed(_ server: GRPCTestServer, jwks: JWKSServer) throws -> Testbed {
        let noRetry = #""retry": {"retries": 0}"#
        return try Testbed(upstreams: ["plain": .echo]) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin,
                routes: [
                    TestConfig.route("/meshgate.test.Retried", to: "grpc", #"""
                        "retry": {"retries": 2, "on": ["grpc-unavailable"], "backoff_base_ms": 1, "backoff_max_ms": 5}
                        """#),
                    TestConfig.route("/meshgate.test.Slow", to: "grpc", #""timeout_ms": 300, \#(noRetry)"#),
                    TestConfig.route("/meshgate.test.Secure", to: "grpc", #""jwt": {"provider": "idp", "required": true}"#),
                    TestConfig.route("/meshgate.test.Breaker", to: "breaker", noRetry),
                    TestConfig.route("/meshgate.test.Plain", to: "plain"),
                    TestConfig.route("/", to: "grpc", noRetry),
                ],
                upstreams: [
                    "grpc": TestConfig.upstream([server.port], #""protocol": "h2c""#),
                    "breaker": TestConfig.upstream(
                        [server.port],
                        #""protocol": "h2c", "circuit_breaker": {"consecutive_failures": 3, "open_ms": 60000}"#),
                    "plain": TestConfig.upstream([ports["plain"]]),
                ],
                providers: """
                    { "idp": { "issuer": "meshgate-auth", "audiences": ["meshgate"], "algorithms": ["ES256"],
                               "jwks": { "url": "http://127.0.0.1:\(jwks.port)/.well-known/jwks.json" } } }
                    """)
        }
    }

    /// The gateway's access-log lines for gRPC calls to `path`.
    static func logged(_ bed: Testbed, path: String) -> [[String: Any]] {
        JSONLog.lines(bed.gateway.child.stdout, message: "request").filter { $0["path"] as? String == path }
    }

    @Test func everyCallShapeReachesTheServerAndComesBackWithItsStatus() throws {
        let server = try GRPCTestServer()
        let jwks = try JWKSServer(document: MintingKey.jwks([]))
        let bed = try Self.bed(server, jwks: jwks)
        defer { bed.stop() }
        let port = bed.ports.listener
        let unary = try GRPCCall(port: port, .unary, "/meshgate.test.Echo/Unary", ["hello"])
        #expect(unary.code == "OK" && unary.responses == ["echo:hello"], "\(unary)")
        let streamed = try GRPCCall(port: port, .server, "/meshgate.test.Echo/ServerStream", ["3"])
        #expect(streamed.code == "OK" && streamed.responses == ["item 0", "item 1", "item 2"], "\(streamed)")
        let uploaded = try GRPCCall(port: port, .client, "/meshgate.test.Echo/ClientStream", ["a", "b", "c"])
        #expect(uploaded.code == "OK" && uploaded.responses == ["a|b|c"], "\(uploaded)")
        let both = try GRPCCall(port: port, .bidi, "/meshgate.test.Echo/Bidi", ["x", "y"])
        #expect(both.code == "OK" && both.responses == ["re:x", "re:y"], "\(both)")
        // An error from the server itself passes through as it was (Trailers-Only, no retry on this route).
        let failed = try GRPCCall(port: port, .unary, "/meshgate.test.Echo/Unary", ["unavailable"])
        #expect(failed.code == "UNAVAILABLE" && failed.details == "always", "\(failed)")

        Poll.until(timeoutMs: 5000) { Self.logged(bed, path: "/meshgate.test.Echo/Unary").count >= 2 }
        let lines = Self.logged(bed, path: "/meshgate.test.Echo/Unary")
        #expect(lines.map { $0["grpc_status"] as? Int } == [0, 14], "\(lines)")
        #expect(lines.allSatisfy { $0["protocol"] as? String == "HTTP/2" && $0["status"] as? Int == 200 }, "\(lines)")
        let bidiLine = Self.logged(bed, path: "/meshgate.test.Echo/Bidi").first
        #expect(bidiLine?["grpc_status"] as? Int == 0, "status from the trailers: \(String(describing: bidiLine))")
        // Four calls ended OK and one UNAVAILABLE on the catch-all route (the sixth, index 5).
        let metrics = try bed.admin("/metrics").bodyText
        let series = metrics.split(separator: "\n").filter { $0.hasPrefix("meshgate_grpc_requests_total{") }
        #expect(series.contains(#"meshgate_grpc_requests_total{listener="test",route="test#5",grpc_status="0"} 4"#), "\(series)")
        #expect(series.contains(#"meshgate_grpc_requests_total{listener="test",route="test#5",grpc_status="14"} 1"#), "\(series)")
    }

    /// SPEC §10: the deadline is min(route `timeout_ms`, `grpc-timeout`), and the server is told what is left.
    @Test func theDeadlineIsTheEarlierOfTheRouteTimeoutAndTheCallsOwn() throws {
        let server = try GRPCTestServer()
        let jwks = try JWKSServer(document: MintingKey.jwks([]))
        let bed = try Self.bed(server, jwks: jwks)
        defer { bed.stop() }
        let port = bed.ports.listener
        let own = try GRPCCall(port: port, .unary, "/meshgate.test.Echo/Unary", ["deadline"], timeoutSeconds: 2)
        let ownLeft = Int(own.responses.first?.dropFirst("remaining:".count) ?? "") ?? -1
        // Within the route's default 3000 ms: the call's own 2 s govern.
        #expect(own.code == "OK" && ownLeft > 1000 && ownLeft <= 2000, "\(own)")
        let route = try GRPCCall(port: port, .unary, "/meshgate.test.Slow/Unary", ["deadline"], timeoutSeconds: 30)
        let routeLeft = Int(route.responses.first?.dropFirst("remaining:".count) ?? "") ?? -1
        #expect(route.code == "OK" && routeLeft > 0 && routeLeft <= 300, "\(route)")

        // The route's deadline passes first: the gateway answers DEADLINE_EXCEEDED itself, long before the
        // client's own 30 s.
        let slow = try GRPCCall(port: port, .unary, "/meshgate.test.Slow/Unary", ["sleep:3000"], timeoutSeconds: 30)
        #expect(slow.code == "DEADLINE_EXCEEDED" && slow.details == "gateway_timeout", "\(slow)")
        Poll.until(timeoutMs: 5000) { !Self.logged(bed, path: "/meshgate.test.Slow/Unary").isEmpty }
        let line = Self.logged(bed, path: "/meshgate.test.Slow/Unary").last
        #expect(line?["grpc_status"] as? Int == 4 && line?["error"] as? String == "gateway_timeout", "\(String(describing: line))")
    }

    /// The gateway's own errors are gRPC statuses (SPEC §10's table): no token → UNAUTHENTICATED before the
    /// server sees anything; a call to an HTTP/1 upstream → INTERNAL, nothing sent; a dead server → UNAVAILABLE.
    @Test func gatewayErrorsAreGRPCStatuses() throws {
        let server = try GRPCTestServer()
        let key = MintingKey(kid: "k1")
        let jwks = try JWKSServer(document: MintingKey.jwks([key]))
        let bed = try Self.bed(server, jwks: jwks)
        defer { bed.stop() }
        let port = bed.ports.listener
        _ = try bed.pollAdmin("/readyz", timeoutMs: 10_000) { $0.status == 200 }

        let anonymous = try GRPCCall(port: port, .unary, "/meshgate.test.Secure/Unary", ["who"])
        #expect(anonymous.code == "UNAUTHENTICATED" && anonymous.details == "unauthorized", "\(anonymous)")
        let signed = try GRPCCall(
            port: port, .unary, "/meshgate.test.Secure/Unary", ["who"],
            metadata: [("authorization", "Bearer " + key.token())])
        #expect(signed.code == "OK" && signed.responses == ["echo:who"], "\(signed)")
        #expect(server.calls == ["meshgate.test.Secure/Unary who"], "only the signed call arrives: \(server.calls)")

        let plain = try GRPCCall(port: port, .unary, "/meshgate.test.Plain/Unary", ["x"])
        #expect(plain.code == "INTERNAL" && plain.details == "grpc_needs_h2_upstream", "\(plain)")
        #expect(bed["plain"].requests.isEmpty, "nothing is sent to the HTTP/1 upstream")

        server.stop()
        let dead = try GRPCCall(port: port, .unary, "/meshgate.test.Echo/Unary", ["x"])
        #expect(dead.code == "UNAVAILABLE" && dead.details == "bad_gateway", "\(dead)")
    }

    /// `retry.on: grpc-unavailable` sends a buffered call again (it is a POST); the breaker counts grpc-status 14.
    @Test func unavailableIsRetriedAndOpensTheBreaker() throws {
        let server = try GRPCTestServer()
        let jwks = try JWKSServer(document: MintingKey.jwks([]))
        let bed = try Self.bed(server, jwks: jwks)
        defer { bed.stop() }
        let port = bed.ports.listener
        let retried = try GRPCCall(port: port, .unary, "/meshgate.test.Retried/Unary", ["fail-first:a"])
        #expect(retried.code == "OK" && retried.responses == ["echo:fail-first:a"], "\(retried)")
        let notRetried = try GRPCCall(port: port, .unary, "/meshgate.test.Echo/Unary", ["fail-first:b"])
        #expect(notRetried.code == "UNAVAILABLE" && notRetried.details == "first try fails", "\(notRetried)")
        let exhausted = try GRPCCall(port: port, .unary, "/meshgate.test.Retried/Unary", ["unavailable"])
        #expect(exhausted.code == "UNAVAILABLE" && exhausted.details == "always", "\(exhausted)")
        let calls = server.calls
        #expect(calls.filter { $0 == "meshgate.test.Retried/Unary fail-first:a" }.count == 2, "\(calls)")
        #expect(calls.filter { $0 == "meshgate.test.Echo/Unary fail-first:b" }.count == 1, "\(calls)")
        #expect(calls.filter { $0 == "meshgate.test.Retried/Unary unavailable" }.count == 3, "\(calls)")
        Poll.until(timeoutMs: 5000) { !Self.logged(bed, path: "/meshgate.test.Retried/Unary").isEmpty }
        let attempts = Self.logged(bed, path: "/meshgate.test.Retried/Unary").map { $0["attempts"] as? Int }
        #expect(attempts.first == 2, "\(attempts)")

        for _ in 0..<3 {
            let failing = try GRPCCall(port: port, .unary, "/meshgate.test.Breaker/Unary", ["unavailable"])
            #expect(failing.code == "UNAVAILABLE" && failing.details == "always", "\(failing)")
        }
        let shed = try GRPCCall(port: port, .unary, "/meshgate.test.Breaker/Unary", ["hello"])
        #expect(shed.code == "UNAVAILABLE" && shed.details == "unavailable", "the breaker is open: \(shed)")
        #expect(!server.calls.contains("meshgate.test.Breaker/Unary hello"), "\(server.calls)")
    }

    /// gRPC over TLS on both sides: grpcio's secure channel to a TLS listener (ALPN h2), and an `"protocol": "h2"`
    /// upstream to a grpcio server with TLS credentials, both verified against the test CA.
    @Test func callsGoOverTLSOnBothSides() throws {
        let pki = TestPKI.shared
        let server = try GRPCTestServer(tls: (pki.path("localhost.crt"), pki.path("localhost.key")))
        let bed = try Testbed(upstreams: [:]) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin,
                routes: [TestConfig.route("/", to: "grpc", #""retry": {"retries": 0}"#)],
                upstreams: [
                    "grpc": TestConfig.upstream(
                        [server.port],
                        #""protocol": "h2", "tls": { "ca_file": "\#(pki.path("ca.crt"))", "server_name": "localhost" }"#)
                ],
                listenerExtra: TLSListenerTests.tlsMember(["localhost"], extra: #""alpn": ["h2"]"#))
        }
        defer { bed.stop() }
        let tls = (caFile: pki.path("ca.crt"), name: "localhost")
        let port = bed.ports.listener
        let unary = try GRPCCall(port: port, .unary, "/meshgate.test.Echo/Unary", ["secure"], tls: tls)
        #expect(unary.code == "OK" && unary.responses == ["echo:secure"], "\(unary)")
        let both = try GRPCCall(port: port, .bidi, "/meshgate.test.Echo/Bidi", ["p", "q"], tls: tls)
        #expect(both.code == "OK" && both.responses == ["re:p", "re:q"], "\(both)")
        let failed = try GRPCCall(port: port, .unary, "/meshgate.test.Echo/Unary", ["unavailable"], tls: tls)
        #expect(failed.code == "UNAVAILABLE" && failed.details == "always", "\(failed)")
        Poll.until(timeoutMs: 5000) { Self.logged(bed, path: "/meshgate.test.Echo/Unary").count >= 2 }
        let lines = Self.logged(bed, path: "/meshgate.test.Echo/Unary")
        #expect(lines.allSatisfy { $0["tls_version"] as? String == "TLSv1.3" && $0["protocol"] as? String == "HTTP/2" }, "\(lines)")
    }
}
