import Foundation
import Glibc
import MeshTestSupport
import Testing

/// SPEC §12 ACME against Pebble (Let's Encrypt's test CA, Debian package `pebble`), started by the test on free
/// ports and told to validate challenges on the gateway's own listeners: the gateway obtains a certificate at
/// start over http-01 (answered on its plaintext listener) or tls-alpn-01 (on the TLS listener itself), keeps it
/// in `storage_dir`, and serves it to a client that trusts only Pebble's root.
@Suite(.serialized) struct ACMETests {
    /// Pebble with its own HTTPS certificate (made here: the package ships none), in a temp dir.
    final class Pebble {
        let directory: String
        let port: UInt16
        let managementPort: UInt16
        let child: ChildProcess
        /// PEM that verifies Pebble's own HTTPS (the `ca_file` of the gateway's `acme`).
        var caFile: String { directory + "/pebble.crt" }

        init(httpPort: UInt16, tlsPort: UInt16, validitySeconds: Int? = nil) throws {
            directory = try GatewayProcess.makeTempDirectory()
            port = try TestSocket.freePort()
            managementPort = try TestSocket.freePort()
            let made = try Tool.openssl([
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", directory + "/pebble.key", "-out", directory + "/pebble.crt", "-days", "2",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ])
            guard made.exitCode == 0 else { throw TestSupportError("openssl req: \(made.stderr)") }
            let validity = validitySeconds.map { ", \"certificateValidityPeriod\": \($0)" } ?? ""
            try ChildProcess.writeFile(
                directory + "/pebble.json",
                """
                { "pebble": { "listenAddress": "127.0.0.1:\(port)", "managementListenAddress": "127.0.0.1:\(managementPort)",
                  "certificate": "\(directory)/pebble.crt", "privateKey": "\(directory)/pebble.key",
                  "httpPort": \(httpPort), "tlsPort": \(tlsPort), "ocspResponderURL": "",
                  "externalAccountBindingRequired": false\(validity) } }
                """)
            child = try ChildProcess(
                path: "/usr/bin/pebble", arguments: ["-config", directory + "/pebble.json", "-strict=false"],
                outputPrefix: directory + "/pebble", environment: ["PEBBLE_VA_NOSLEEP": "1"])
            let up = Poll.until(timeoutMs: 15_000, intervalMs: 50) {
                (try? TestSocket.connect(port: self.port, timeoutMs: 500)).map { close($0); return true } ?? false
            }
            guard up else { throw TestSupportError("pebble did not start:\n\(child.stdout)\n\(child.stderr)") }
        }

        deinit {
            _ = child.terminate(signal: SIGKILL, graceMs: 2000)
            GatewayProcess.removeDirectory(directory)
        }

        var directoryURL: String { "https://127.0.0.1:\(port)/dir" }

        /// The root that signs this run's certificates (regenerated on every Pebble start), written to a file.
        func fetchRoot() throws -> String {
            let path = directory + "/root.pem"
            let result = try Tool.curl([
                "--cacert", caFile, "-o", path, "https://127.0.0.1:\(managementPort)/roots/0",
            ])
            guard result.exitCode == 0 else { throw TestSupportError("fetching /roots/0: \(result.stderr)") }
            return path
        }
    }

    /// A gateway with a plaintext listener `web` (where http-01 is answered) and an ACME TLS listener `edge`.
    static func gatewayConfig(
        webPort: UInt16, edgePort: UInt16, adminPort: UInt16, appPort: UInt16, pebble: Pebble, challenge: String,
        storage: String, watch: Bool = false
    ) -> String {
        """
        { "version": 1,
          "admin": { "address": "127.0.0.1:\(adminPort)" },
          "listeners": [
            { "name": "web", "address": "127.0.0.1:\(webPort)", "routes": [ { "match": { "path_prefix": "/" }, "upstream": "app" } ] },
            { "name": "edge", "address": "127.0.0.1:\(edgePort)",
              "tls": { "acme": { "directory_url": "\(pebble.directoryURL)", "email": "ops@example.test",
                                 "domains": ["localhost"], "challenge": "\(challenge)",
                                 "ca_file": "\(pebble.caFile)", "storage_dir": "\(storage)" } },
              "routes": [ { "match": { "path_prefix": "/" }, "upstream": "app" } ] } ],
          "upstreams": { "app": { "endpoints": ["127.0.0.1:\(appPort)"] } },
          "logging": { "level": "info", "access_log": false },
          "watch_config": \(watch) }
        """
    }

    struct Rig {
        let pebble: Pebble
        let app: TestUpstream
        let gateway: GatewayProcess
        let storage: String
        let webPort: UInt16
        let edgePort: UInt16
        let adminPort: UInt16
    }

    static func start(challenge: String, validitySeconds: Int? = nil) throws -> Rig {
        let webPort = try TestSocket.freePort()
        let edgePort = try TestSocket.freePort()
        let adminPort = try TestSocket.freePort()
        let pebble = try Pebble(httpPort: webPort, tlsPort: edgePort, validitySeconds: validitySeconds)
        let app = try TestUpstream(.echo)
        let storage = pebble.directory + "/acme-storage"
        let config = gatewayConfig(
            webPort: webPort, edgePort: edgePort, adminPort: adminPort, appPort: app.port, pebble: pebble,
            challenge: challenge, storage: storage)
        let gateway = try GatewayProcess(configJSON: config, port: edgePort)
        return Rig(
            pebble: pebble, app: app, gateway: gateway, storage: storage, webPort: webPort, edgePort: edgePort,
            adminPort: adminPort)
    }

    /// curl over the TLS listener trusting only Pebble's root (SNI localhost).
    static func curlTrustingPebble(_ rig: Rig, root: String, path: String = "/hello") throws -> Tool.Result {
        try Tool.curl([
            "--cacert", root, "--resolve", "localhost:\(rig.edgePort):127.0.0.1", "-o", "/dev/null",
            "-w", "%{http_code}", "https://localhost:\(rig.edgePort)\(path)",
        ])
    }

    static func obtainsAndServes(challenge: String) throws {
        let rig = try start(challenge: challenge)
        defer { rig.app.shutdown() }
        let root = try rig.pebble.fetchRoot()
        var last = ""
        let served = Poll.until(timeoutMs: 30_000, intervalMs: 200) {
            let result = try curlTrustingPebble(rig, root: root)
            last = "exit \(result.exitCode): \(result.stdout) \(result.stderr)"
            return result.exitCode == 0 && result.stdout == "200"
        }
        #expect(served, "\(last)\n\(rig.gateway.child.stdout)\n\(rig.gateway.child.stderr)")
        // Stored: the chain (leaf from Pebble's intermediate) and its key, the key 0600.
        let chain = ChildProcess.readFile(rig.storage + "/certificate.pem")
        #expect(chain.components(separatedBy: "BEGIN CERTIFICATE").count - 1 >= 2)
        var info = stat()
        #expect(stat(rig.storage + "/certificate.key", &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        let metrics = try AdminClient(port: rig.adminPort).get("/metrics").bodyText
        #expect(
            (PrometheusText.value(metrics, "meshgate_acme_orders_total", ["listener": "edge", "result": "success"]) ?? 0)
                >= 1)
        // Before, the listener served its self-signed placeholder: a client trusting Pebble would have failed.
        let placeholder = try Tool.openssl(["verify", "-CAfile", root, rig.storage + "/placeholder.pem"])
        #expect(placeholder.exitCode != 0)
    }

    @Test func http01CertificateIsObtainedAtStartAndServed() throws {
        try Self.obtainsAndServes(challenge: "http-01")
    }

    /// The ACME server down at a restart: the stored certificate (still before its renewal time) is served, and
    /// no order is attempted.
    @Test func aRestartWithTheServerDownServesTheStoredCertificate() throws {
        let rig = try Self.start(challenge: "http-01")
        defer { rig.app.shutdown() }
        let root = try rig.pebble.fetchRoot()
        let issued = Poll.until(timeoutMs: 30_000, intervalMs: 200) {
            try Self.curlTrustingPebble(rig, root: root).stdout == "200"
        }
        #expect(issued, "\(rig.gateway.child.stdout)")
        #expect(rig.gateway.stop() == .exited(0))
        _ = rig.pebble.child.terminate(signal: SIGKILL, graceMs: 2000)
        let config = Self.gatewayConfig(
            webPort: rig.webPort, edgePort: rig.edgePort, adminPort: rig.adminPort, appPort: rig.app.port,
            pebble: rig.pebble, challenge: "http-01", storage: rig.storage)
        let again = try GatewayProcess(configJSON: config, port: rig.edgePort)
        let result = try Self.curlTrustingPebble(rig, root: root)
        #expect(result.stdout == "200", "\(result.stderr)\n\(again.child.stdout)")
        let metrics = try AdminClient(port: rig.adminPort).get("/metrics").bodyText
        #expect(PrometheusText.value(metrics, "meshgate_acme_orders_total", ["listener": "edge", "result": "failure"]) == 0)
        #expect(PrometheusText.value(metrics, "meshgate_acme_orders_total", ["listener": "edge", "result": "success"]) == 0)
    }

    /// A stored pair that cannot be kept (here its key no longer matches, as after a crash between the two
    /// renames) is ordered again at the next start instead of being trusted until its renewal time.
    @Test func aStoredPairThatDoesNotMatchIsOrderedAgain() throws {
        let rig = try Self.start(challenge: "http-01")
        defer { rig.app.shutdown() }
        let root = try rig.pebble.fetchRoot()
        #expect(Poll.until(timeoutMs: 30_000, intervalMs: 200) { try Self.curlTrustingPebble(rig, root: root).stdout == "200" })
        #expect(rig.gateway.stop() == .exited(0))
        let placeholderKey = ChildProcess.readFile(rig.storage + "/placeholder.key")
        try ChildProcess.writeFile(rig.storage + "/certificate.key", placeholderKey)
        let config = Self.gatewayConfig(
            webPort: rig.webPort, edgePort: rig.edgePort, adminPort: rig.adminPort, appPort: rig.app.port,
            pebble: rig.pebble, challenge: "http-01", storage: rig.storage)
        let again = try GatewayProcess(configJSON: config, port: rig.edgePort)
        let reordered = Poll.until(timeoutMs: 30_000, intervalMs: 200) {
            let metrics = try AdminClient(port: rig.adminPort).get("/metrics").bodyText
            return PrometheusText.value(metrics, "meshgate_acme_orders_total", ["listener": "edge", "result": "success"]) == 1
        }
        #expect(reordered, "\(again.child.stdout)")
        #expect(Poll.until(timeoutMs: 10_000, intervalMs: 200) { try Self.curlTrustingPebble(rig, root: root).stdout == "200" })
        #expect(ChildProcess.readFile(rig.storage + "/certificate.key") != placeholderKey)
    }

    /// No certificate stored and the CA unreachable at the first start: the listener still serves (the self-signed
    /// placeholder), `/config` and the log say so, and the failed orders are counted.
    @Test func theCADownAtTheFirstStartIsReportedAndThePlaceholderServed() throws {
        let webPort = try TestSocket.freePort()
        let edgePort = try TestSocket.freePort()
        let adminPort = try TestSocket.freePort()
        let pebble = try Pebble(httpPort: webPort, tlsPort: edgePort)
        _ = pebble.child.terminate(signal: SIGKILL, graceMs: 2000)
        let app = try TestUpstream(.echo)
        defer { app.shutdown() }
        let storage = pebble.directory + "/acme-storage"
        let gateway = try GatewayProcess(
            configJSON: Self.gatewayConfig(
                webPort: webPort, edgePort: edgePort, adminPort: adminPort, appPort: app.port, pebble: pebble,
                challenge: "http-01", storage: storage),
            port: edgePort)
        let served = try Tool.openssl([
            "s_client", "-connect", "127.0.0.1:\(edgePort)", "-servername", "localhost", "-verify_return_error",
            "-CAfile", storage + "/placeholder.pem",
        ])
        #expect(served.stdout.contains("Verify return code: 0 (ok)"), "\(served.stdout)")
        let config = try AdminClient(port: adminPort).get("/config").bodyText
        #expect(config.contains("\"edge\":\"acme: no certificate issued yet; serving the self-signed placeholder\""), "\(config)")
        let counted = Poll.until(timeoutMs: 15_000, intervalMs: 100) {
            let metrics = try AdminClient(port: adminPort).get("/metrics").bodyText
            return (PrometheusText.value(metrics, "meshgate_acme_orders_total", ["listener": "edge", "result": "failure"]) ?? 0) >= 1
        }
        #expect(counted)
        let logged = Poll.until(timeoutMs: 5_000, intervalMs: 50) {
            gateway.child.stdout.contains("ACME order failed; retrying")
                && gateway.child.stdout.contains("meshgate:connection")
        }
        #expect(logged, "\(gateway.child.stdout)")
        #expect(!FileManager.default.fileExists(atPath: storage + "/certificate.pem"))
    }

    /// A keep-alive TLS client: one request, then waits for `go` to exist, then a second request on the same
    /// connection; prints each status line.
    static let keepAliveClient = """
        import os, socket, ssl, sys, time
        port, ca, go = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        context = ssl.create_default_context(cafile=ca)
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        conn = context.wrap_socket(raw, server_hostname="localhost")
        def ask(path):
            conn.sendall(("GET " + path + " HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n").encode())
            data = b""
            while b"\\r\\n\\r\\n" not in data:
                data += conn.recv(65536)
            head, _, body = data.partition(b"\\r\\n\\r\\n")
            length = [int(l.split(b":")[1]) for l in head.split(b"\\r\\n") if l.lower().startswith(b"content-length")][0]
            while len(body) < length:
                body += conn.recv(65536)
            print(head.split(b"\\r\\n")[0].decode(), flush=True)
        ask("/first")
        deadline = time.time() + 60
        while not os.path.exists(go) and time.time() < deadline:
            time.sleep(0.02)
        ask("/second")
        """

    /// The serial of the certificate new handshakes get.
    static func servedSerial(_ rig: Rig) throws -> String {
        let result = try Tool.openssl(["s_client", "-connect", "127.0.0.1:\(rig.edgePort)", "-servername", "localhost"])
        let pem = result.stdout
        guard let start = pem.range(of: "-----BEGIN CERTIFICATE-----"),
            let end = pem.range(of: "-----END CERTIFICATE-----")
        else { return "" }
        let leaf = String(pem[start.lowerBound..<end.upperBound]) + "\n"
        return try Tool.openssl(["x509", "-noout", "-serial"], input: leaf).stdout
    }

    /// Renewal (SPEC §12): Pebble issues 30-second certificates, so two thirds of the life pass during the test;
    /// the client orders again and new handshakes get the new certificate, without a restart, while a connection
    /// opened on the old one keeps working.
    @Test func aShortLivedCertificateIsRenewedWithoutARestart() throws {
        let rig = try Self.start(challenge: "http-01", validitySeconds: 30)
        defer { rig.app.shutdown() }
        let root = try rig.pebble.fetchRoot()
        let issued = Poll.until(timeoutMs: 30_000, intervalMs: 200) {
            try Self.curlTrustingPebble(rig, root: root).stdout == "200"
        }
        #expect(issued, "\(rig.gateway.child.stdout)")
        let first = try Self.servedSerial(rig)
        #expect(first.hasPrefix("serial="))
        let go = rig.pebble.directory + "/go"
        let python = try ChildProcess(
            path: "/usr/bin/python3", arguments: ["-c", Self.keepAliveClient, "\(rig.edgePort)", root, go],
            outputPrefix: rig.pebble.directory + "/client")
        #expect(Poll.until(timeoutMs: 10_000, intervalMs: 20) { python.stdout.contains("HTTP/1.1 200") }, "\(python.stderr)")
        var renewed = ""
        let changed = Poll.until(timeoutMs: 60_000, intervalMs: 500) {
            renewed = try Self.servedSerial(rig)
            return renewed.hasPrefix("serial=") && renewed != first
        }
        #expect(changed, "still \(first)\n\(rig.gateway.child.stdout)")
        #expect(try Self.curlTrustingPebble(rig, root: root).stdout == "200")
        FileManager.default.createFile(atPath: go, contents: Data())
        #expect(python.wait(timeoutMs: 20_000) == .exited(0), "\(python.stderr)")
        #expect(python.stdout.split(separator: "\n") == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"], "\(python.stdout)")
        let metrics = try AdminClient(port: rig.adminPort).get("/metrics").bodyText
        #expect(
            (PrometheusText.value(metrics, "meshgate_acme_orders_total", ["listener": "edge", "result": "success"]) ?? 0)
                >= 2)
    }

    @Test func tlsALPN01CertificateIsObtainedAtStartAndServed() throws {
        try Self.obtainsAndServes(challenge: "tls-alpn-01")
    }

    /// http-01 answers only the exact tokens being served; other paths under the prefix are 404, and the rest of
    /// the plaintext listener still goes to its routes.
    @Test func unknownChallengeTokensAre404AndOtherPathsStillRoute() throws {
        let rig = try Self.start(challenge: "http-01")
        defer { rig.app.shutdown() }
        let unknown = try Tool.curl([
            "-o", "/dev/null", "-w", "%{http_code}",
            "http://127.0.0.1:\(rig.webPort)/.well-known/acme-challenge/not-a-token",
        ])
        #expect(unknown.stdout == "404")
        let routed = try Tool.curl(["-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(rig.webPort)/app"])
        #expect(routed.stdout == "200")
    }
}
