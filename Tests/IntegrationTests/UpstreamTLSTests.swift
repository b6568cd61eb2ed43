import Foundation
import Glibc
import MeshTestSupport
import Testing

/// SPEC §9 upstream TLS, and the sidecar pair the README shows: an edge meshgate calls a service's sidecar
/// meshgate over mutual TLS; the sidecar verifies the caller's SPIFFE identity and forwards it to the service.
@Suite struct UpstreamTLSTests {
    static let pki = TestPKI.shared
    static let frontend = "spiffe://cluster.local/ns/default/sa/frontend"

    /// The service's sidecar: TLS with client certificates required, `/api` only for the frontend identity.
    static func sidecar() throws -> Testbed {
        let tls = TLSListenerTests.tlsMember(
            ["localhost"], extra: "\"client_ca_file\": \"\(pki.path("ca.crt"))\", \"require_client_cert\": true")
        return try Testbed(upstreams: ["service": .echo]) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin,
                routes: [TestConfig.route("/api", to: "service", "\"allow_identities\": [\"\(frontend)\"]")],
                upstreams: ["service": TestConfig.upstream([ports["service"]])], listenerExtra: tls)
        }
    }

    /// The caller: plaintext listener, upstream `mesh` = the sidecar over TLS with `tls` members (raw JSON) and
    /// more upstream members (`extra`, raw JSON).
    static func caller(to sidecar: Testbed, tls: String, extra: String = "") throws -> Testbed {
        let port = sidecar.ports.listener
        return try Testbed(upstreams: [:]) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin,
                routes: [TestConfig.route("/", to: "mesh", "\"retry\": { \"retries\": 1 }")],
                upstreams: [
                    "mesh": "{ \"endpoints\": [\"127.0.0.1:\(port)\"], \"tls\": { \(tls) },"
                        + " \"circuit_breaker\": { \"consecutive_failures\": 100 }\(extra) }"
                ])
        }
    }

    /// Active health checks speak the upstream's TLS (with its client certificate): the sidecar answers them.
    @Test(arguments: [true, false])
    func healthChecksSpeakTheUpstreamsTLS(withClientCertificate: Bool) throws {
        let sidecar = try Self.sidecar()
        let tls = withClientCertificate ? Self.clientPair : "\"ca_file\": \"\(Self.pki.path("ca.crt"))\""
        let check =
            ", \"health_check\": { \"path\": \"/api/health\", \"interval_ms\": 200, \"timeout_ms\": 200,"
            + " \"healthy_threshold\": 1, \"unhealthy_threshold\": 1 }"
        let caller = try Self.caller(to: sidecar, tls: tls, extra: check)
        let expected = withClientCertificate ? "healthy" : "unhealthy"
        let view = try caller.pollAdmin("/upstreams", timeoutMs: 10_000) { $0.bodyText.contains("\"\(expected)\"") }
        #expect(view.bodyText.contains("\"health\":\"\(expected)\""), "\(view.bodyText)")
        if withClientCertificate {
            #expect(sidecar["service"].waitForRequests(1, timeoutMs: 5000).first?.target == "/api/health")
        }
        #expect(caller.stop() == .exited(0))
        #expect(sidecar.stop() == .exited(0))
    }

    static var clientPair: String {
        "\"ca_file\": \"\(pki.path("ca.crt"))\", \"cert_file\": \"\(pki.path("client.crt"))\","
            + " \"key_file\": \"\(pki.path("client.key"))\""
    }

    @Test func theSidecarPairCarriesTheCallersIdentityOverMutualTLS() throws {
        let sidecar = try Self.sidecar()
        let caller = try Self.caller(to: sidecar, tls: Self.clientPair)
        for index in 0..<5 {
            let response = try caller.request("GET", "/api/items/\(index)")
            #expect(response.status == 200, "\(response)")
        }
        let received = sidecar["service"].requests
        #expect(received.map(\.target) == (0..<5).map { "/api/items/\($0)" })
        let hash = try Self.pki.fingerprint("client")
        #expect(
            received.first?.head.header("x-forwarded-client-cert")
                == "Hash=\(hash);URI=\(Self.frontend);Subject=\"CN=frontend,O=Example,C=US\"")
        // Keep-alive through TLS: the five requests shared the caller's pooled connection (one handshake; the
        // readiness probe's bare connect is the one failure).
        let metrics = try sidecar.admin("/metrics").bodyText
        #expect(
            PrometheusText.value(metrics, "meshgate_tls_handshakes_total", ["listener": "test", "result": "success"])
                == 1, "\(metrics)")
        #expect(caller.stop() == .exited(0))
        #expect(sidecar.stop() == .exited(0))
    }

    @Test(arguments: [
        ("wrong name", "\"ca_file\": \"CA\", \"server_name\": \"wrong.example.com\""),
        ("wrong CA", "\"ca_file\": \"ROGUE\""),
        ("system store", ""),
    ])
    func anUpstreamThatDoesNotVerifyIsA502(_ name: String, _ tls: String) throws {
        let sidecar = try Self.sidecar()
        let members = tls.replacingOccurrences(of: "ROGUE", with: Self.pki.path("rogue-ca.crt"))
            .replacingOccurrences(of: "CA", with: Self.pki.path("ca.crt"))
        let caller = try Self.caller(to: sidecar, tls: members)
        let response = try caller.request("GET", "/api/x")
        #expect(response.status == 502, "\(name): \(response)")
        #expect(sidecar["service"].requests.isEmpty)
        #expect(caller.stop() == .exited(0))
        #expect(sidecar.stop() == .exited(0))
    }

    @Test func withoutAClientCertificateTheSidecarRefusesTheHandshake() throws {
        let sidecar = try Self.sidecar()
        let caller = try Self.caller(to: sidecar, tls: "\"ca_file\": \"\(Self.pki.path("ca.crt"))\"")
        let response = try caller.request("GET", "/api/x")
        #expect(response.status == 502, "\(response)")
        #expect(sidecar["service"].requests.isEmpty)
        #expect(caller.stop() == .exited(0))
        #expect(sidecar.stop() == .exited(0))
    }

    @Test func largeBodiesCrossBothWays() throws {
        let sidecar = try Self.sidecar()
        let caller = try Self.caller(to: sidecar, tls: Self.clientPair)
        let client = try caller.client(timeoutMs: 20_000)
        let size = 3 * 1024 * 1024 + 17
        try client.send("POST /api/upload HTTP/1.1\r\nHost: test.local\r\nContent-Length: \(size)\r\n\r\n")
        try client.sendPattern(bytes: size, chunked: false)
        let response = try client.readResponse()
        #expect(response.status == 200)
        let got = try #require(sidecar["service"].requests.first)
        #expect(got.bodyCount == size && got.bodyMatchesPattern)
        // The echo answers with the head and the body it kept: all of it came back through both TLS hops.
        #expect(response.bodyCount == got.head.raw.count + got.body.count)
        #expect(response.head.header("content-length") == "\(got.head.raw.count + got.body.count)")
        #expect(caller.stop() == .exited(0))
        #expect(sidecar.stop() == .exited(0))
    }

    /// A TLS upstream (Python's `ssl`) answering every request with a close-delimited body of `size` bytes and
    /// then closing without close_notify, the end arriving with the last bytes.
    static let closeDelimitedServer = """
        import socket, ssl, sys
        size, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        listener = socket.create_server(("127.0.0.1", 0))
        print(listener.getsockname()[1], flush=True)
        body = bytes(i % 251 for i in range(size))
        while True:
            raw, _ = listener.accept()
            try:
                conn = context.wrap_socket(raw, server_side=True)
                data = b""
                while b"\\r\\n\\r\\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                conn.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Type: application/octet-stream\\r\\n\\r\\n" + body)
                raw.shutdown(socket.SHUT_RDWR)
            except Exception as error:
                print(error, file=sys.stderr, flush=True)
            finally:
                raw.close()
        """

    @Test(arguments: [0, 10, 70_000])
    func aCloseDelimitedTLSResponseIsDeliveredWhole(size: Int) throws {
        let directory = try GatewayProcess.makeTempDirectory()
        defer { GatewayProcess.removeDirectory(directory) }
        let server = try ChildProcess(
            path: "/usr/bin/python3",
            arguments: ["-c", Self.closeDelimitedServer, "\(size)", Self.pki.path("localhost.crt"),
                        Self.pki.path("localhost.key")],
            outputPrefix: directory + "/origin")
        defer { _ = server.terminate(signal: SIGKILL) }
        var port: UInt16?
        let deadline = TestSocket.nowMs() + 10_000
        while port == nil && TestSocket.nowMs() < deadline {
            port = UInt16(server.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            if port == nil { usleep(20_000) }
        }
        let origin = try #require(port, "the TLS origin did not start: \(server.stderr)")
        let caller = try Testbed(upstreams: [:]) { ports in
            TestConfig.document(
                port: ports.listener, routes: [TestConfig.route("/", to: "origin", "\"retry\": { \"retries\": 0 }")],
                upstreams: [
                    "origin": "{ \"endpoints\": [\"127.0.0.1:\(origin)\"], \"tls\": "
                        + "{ \"ca_file\": \"\(Self.pki.path("ca.crt"))\" } }"
                ])
        }
        let response = try caller.client(timeoutMs: 10_000).request("GET /file HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(response.status == 200, "\(response)")
        #expect(response.bodyCount == size)
        #expect(response.body == (0..<min(size, RawClient.keptBodyBytes)).map { UInt8($0 % 251) })
        #expect(caller.stop() == .exited(0))
    }
}
