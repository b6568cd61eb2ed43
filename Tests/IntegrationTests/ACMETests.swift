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
