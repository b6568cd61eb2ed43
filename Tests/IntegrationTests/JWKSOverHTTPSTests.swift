import Foundation
import Glibc
import MeshTestSupport
import Testing

/// SPEC §9: `jwks.url` may be `https://`, verified against `jwks.ca_file` (or the system store). The key server
/// is Python's `http.server` behind its `ssl` module, with a certificate the `openssl` CLI made (`TestPKI`).
@Suite struct JWKSOverHTTPSTests {
    static let pki = TestPKI.shared

    /// Serves `document` (argv[3]) to every GET over TLS with pair `localhost`.
    static let handler = """
            def do_GET(self):
                document = sys.argv[3].encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(document)))
                self.end_headers()
                self.wfile.write(document)
        """

    /// The key server and its port.
    static func keyServer(_ document: String, directory: String) throws -> (ChildProcess, UInt16) {
        try PythonHTTPSServer.start(
            handler: handler, cert: pki.path("localhost.crt"), key: pki.path("localhost.key"), arguments: [document],
            outputPrefix: directory + "/keys")
    }

    static func testbed(keysPort: UInt16, ca: String) throws -> Testbed {
        try Testbed(upstreams: ["app": .echo]) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin, routes: [TestConfig.route("/", to: "app")],
                upstreams: ["app": TestConfig.upstream([ports["app"]])],
                providers: """
                    { "idp": { "issuer": "meshgate-auth", "audiences": ["meshgate"], "algorithms": ["ES256"],
                               "jwks": { "url": "https://127.0.0.1:\(keysPort)/jwks.json", "refresh_ms": 1000,
                                         "ca_file": "\(pki.path("\(ca).crt"))" } } }
                    """,
                listenerJWT: #"{ "provider": "idp", "required": true, "claims_to_headers": { "sub": "x-user-id" } }"#)
        }
    }

    @Test func keysFetchedOverVerifiedTLSValidateTokens() throws {
        let directory = try GatewayProcess.makeTempDirectory()
        defer { GatewayProcess.removeDirectory(directory) }
        let key = MintingKey(kid: "k1")
        let (server, port) = try Self.keyServer(MintingKey.jwks([key]), directory: directory)
        defer { _ = server.terminate(signal: SIGKILL) }
        let bed = try Self.testbed(keysPort: port, ca: "ca")
        let ready = try bed.pollAdmin("/readyz", timeoutMs: 10_000) { $0.status == 200 }
        #expect(ready.status == 200, "no keys over https: \(bed.gateway.child.stdout)")
        let response = try bed.request("GET", "/x", headers: JWTGatewayTests.bearer(key.token()))
        #expect(response.status == 200, "\(response)")
        #expect(bed["app"].requests.last?.head.header("x-user-id") == "alice")
        #expect(bed.stop() == .exited(0))
    }

    @Test func aKeyServerThatDoesNotVerifyGivesNoKeys() throws {
        let directory = try GatewayProcess.makeTempDirectory()
        defer { GatewayProcess.removeDirectory(directory) }
        let key = MintingKey(kid: "k1")
        let (server, port) = try Self.keyServer(MintingKey.jwks([key]), directory: directory)
        defer { _ = server.terminate(signal: SIGKILL) }
        let bed = try Self.testbed(keysPort: port, ca: "rogue-ca")
        // Keys never load: not ready, tokens refused, and the log says why.
        let failures = try bed.pollAdmin("/metrics", timeoutMs: 10_000) { response in
            (PrometheusText.value(response.bodyText, "meshgate_jwks_refresh_failures_total", ["provider": "idp"]) ?? 0)
                >= 1
        }
        #expect(
            (PrometheusText.value(failures.bodyText, "meshgate_jwks_refresh_failures_total", ["provider": "idp"]) ?? 0)
                >= 1)
        #expect(try bed.admin("/readyz").status == 503)
        let response = try bed.request("GET", "/x", headers: JWTGatewayTests.bearer(key.token()))
        #expect(response.status == 401 || response.status == 503, "\(response)")
        #expect(bed["app"].requests.isEmpty)
        // The event line goes out through the asynchronous log writer: it may follow the metric by a moment.
        #expect(
            Poll.until(timeoutMs: 5_000) { bed.gateway.child.stdout.contains("certificate") },
            "\(bed.gateway.child.stdout)")
        #expect(bed.stop() == .exited(0))
    }
}
