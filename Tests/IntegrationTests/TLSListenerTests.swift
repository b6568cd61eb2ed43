import Foundation
import Glibc
import MeshTestSupport
import Testing

/// SPEC §9 on a TLS listener, checked with independent clients (curl, `openssl s_client`) against certificates
/// the `openssl` CLI made at test time (`TestPKI`).
@Suite struct TLSListenerTests {
    static let pki = TestPKI.shared

    /// A listener `tls` member serving `pairs` (TestPKI names) plus `extra` members (raw JSON).
    static func tlsMember(_ pairs: [String], extra: String = "") -> String {
        let certificates = pairs.map {
            "{ \"cert_file\": \"\(pki.path("\($0).crt"))\", \"key_file\": \"\(pki.path("\($0).key"))\" }"
        }.joined(separator: ", ")
        let tail = extra.isEmpty ? "" : ", " + extra
        return "\"tls\": { \"certificates\": [\(certificates)]\(tail) }"
    }

    static func testbed(_ pairs: [String] = ["localhost"], extra: String = "") throws -> Testbed {
        try Testbed(upstreams: ["app": .echo]) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin, routes: [TestConfig.route("/", to: "app")],
                upstreams: ["app": TestConfig.upstream([ports["app"]])],
                listenerExtra: tlsMember(pairs, extra: extra))
        }
    }

    /// curl to `https://host:port/path`, `host` resolved to 127.0.0.1, trusting `ca`.
    static func curl(
        _ bed: Testbed, host: String = "localhost", path: String = "/hello", ca: String = "ca", _ more: [String] = []
    ) throws -> Tool.Result {
        let port = bed.ports.listener
        return try Tool.curl(
            ["--cacert", pki.path("\(ca).crt"), "--resolve", "\(host):\(port):127.0.0.1"] + more
                + ["https://\(host):\(port)\(path)"])
    }

    /// `openssl s_client` to the listener (stdin closed: handshake, print, quit).
    static func sClient(_ bed: Testbed, _ more: [String]) throws -> Tool.Result {
        try Tool.openssl(
            ["s_client", "-connect", "127.0.0.1:\(bed.ports.listener)", "-CAfile", pki.path("ca.crt")] + more)
    }

    /// `openssl s_client` sending one `Connection: close` request and reading until the gateway closes: the
    /// TLS 1.3 tickets (sent after the handshake) have arrived by then.
    static func sClientRequest(_ bed: Testbed, _ more: [String]) throws -> Tool.Result {
        try Tool.openssl(
            ["s_client", "-connect", "127.0.0.1:\(bed.ports.listener)", "-CAfile", pki.path("ca.crt"), "-ign_eof"]
                + more,
            input: "GET /resume HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    }

    static func handshakes(_ bed: Testbed, _ result: String) throws -> Double {
        PrometheusText.value(
            try bed.admin("/metrics").bodyText, "meshgate_tls_handshakes_total",
            ["listener": "test", "result": result]) ?? -1
    }

    @Test(arguments: [("TLSv1.2", ["--tlsv1.2", "--tls-max", "1.2"]), ("TLSv1.3", ["--tlsv1.3"])])
    func curlVerifiesTheListenerAndIsProxied(version: String, flags: [String]) throws {
        let bed = try Self.testbed()
        let result = try Self.curl(bed, path: "/hello?x=1", ["-v"] + flags)
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("GET /hello?x=1 HTTP/1.1\r\n"), "\(result.stdout)")
        #expect(result.stderr.contains("SSL connection using \(version)"), "\(result.stderr)")
        #expect(bed["app"].requests.map(\.target) == ["/hello?x=1"])
        #expect(try Self.handshakes(bed, "success") == 1)
        #expect(bed.stop() == .exited(0))
    }

    @Test func sniPicksTheCertificateWhoseNamesMatch() throws {
        let bed = try Self.testbed(["a", "b", "wild"])
        for host in ["a.example.com", "b.example.com", "b-alt.example.com", "x.wild.example.com"] {
            let result = try Self.curl(bed, host: host)
            #expect(result.exitCode == 0, "\(host): \(result.stderr)")
        }
        // No pair names it: the first pair is served, whose name does not match, so curl refuses it.
        let unmatched = try Self.curl(bed, host: "c.example.com")
        #expect(unmatched.exitCode == 60, "\(unmatched.stderr)")
        #expect(bed["app"].requests.count == 4)
        let served = try Self.sClient(bed, ["-servername", "b.example.com"])
        #expect(served.stdout.contains("subject=CN = b.example.com"), "\(served.stdout)")
        let noSNI = try Self.sClient(bed, ["-noservername"])
        #expect(noSNI.stdout.contains("subject=CN = a.example.com"), "\(noSNI.stdout)")
        #expect(bed.stop() == .exited(0))
    }

    @Test func alpnAgreesOnHTTP11AndRefusesAClientWithoutIt() throws {
        let bed = try Self.testbed()
        let both = try Self.sClient(bed, ["-alpn", "h2,http/1.1"])
        #expect(both.stdout.contains("ALPN protocol: http/1.1"), "\(both.stdout)")
        let h2Only = try Self.sClient(bed, ["-alpn", "h2"])
        #expect(h2Only.exitCode != 0)
        #expect(h2Only.stdout.contains("No ALPN negotiated"), "\(h2Only.stdout)")
        #expect(h2Only.stderr.contains("no application protocol"), "\(h2Only.stderr)")
        #expect(bed.stop() == .exited(0))
    }

    @Test(arguments: ["-tls1_2", "-tls1_3"])
    func sessionsResumeFromATicket(version: String) throws {
        let bed = try Self.testbed()
        let session = bed.gateway.directory + "/session\(version)"
        let first = try Self.sClientRequest(bed, [version, "-sess_out", session])
        #expect(first.stdout.contains("HTTP/1.1 200 OK"), "\(first.stdout)")
        #expect(first.stdout.contains("New, TLSv1."), "\(first.stdout)")
        let second = try Self.sClient(bed, [version, "-sess_in", session])
        #expect(second.stdout.contains("Reused, TLSv1."), "\(second.stdout)")
        #expect(bed.stop() == .exited(0))
    }

    @Test func aClientThatDoesNotTrustTheIssuerRefuses() throws {
        let bed = try Self.testbed()
        let result = try Self.curl(bed, ca: "rogue-ca")
        #expect(result.exitCode == 60, "\(result.stderr)")
        #expect(bed["app"].requests.isEmpty)
        #expect(bed.stop() == .exited(0))
    }

    /// Garbage, plaintext HTTP, a stalled handshake and a cut-off ClientHello: each connection is closed
    /// without an HTTP answer and counted as a failed handshake; a real client is served meanwhile.
    @Test func badInputClosesCleanlyIsCountedAndHarmsNoOne() throws {
        let bed = try Self.testbed(extra: "\"handshake_timeout_ms\": 400")
        var random = SplitMix64(state: 7)
        let garbage = (0..<300).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let inputs: [(String, [UInt8])] = [
            ("garbage", garbage),
            ("plaintext", Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)),
            ("stall", []),
            ("partial hello", [0x16, 0x03, 0x01, 0x02, 0x00, 0x01]),
        ]
        // The readiness probe's bare connect already counted as a failed handshake (as every accepted
        // connection does); count from after it.
        #expect(try Self.curl(bed).exitCode == 0)
        let before = try Self.handshakes(bed, "failure")
        for (name, bytes) in inputs {
            let client = try bed.client(timeoutMs: 5000)
            if !bytes.isEmpty { try client.send(bytes) }
            let served = try Self.curl(bed)
            #expect(served.exitCode == 0, "\(name): a good client failed meanwhile: \(served.stderr)")
            // What comes back is at most a TLS alert record, never an HTTP answer, and then the close.
            var answer: [UInt8] = []
            while true {
                let chunk: [UInt8]
                do {
                    chunk = try client.readAvailable()
                } catch let error as TestSupportError where !error.description.contains("timed out") {
                    break  // a reset is a close too; a timeout (a hang) fails the test
                }
                if chunk.isEmpty { break }
                answer += chunk
            }
            #expect(answer.isEmpty || answer[0] == 0x15, "\(name): \(answer.prefix(16))")
            #expect(!String(decoding: answer, as: UTF8.self).contains("HTTP/"), "\(name)")
            client.close()
        }
        let metrics = try bed.pollAdmin("/metrics") { response in
            PrometheusText.value(
                response.bodyText, "meshgate_tls_handshakes_total", ["listener": "test", "result": "failure"])
                == before + 4
        }
        let failures = PrometheusText.value(
            metrics.bodyText, "meshgate_tls_handshakes_total", ["listener": "test", "result": "failure"])
        #expect(failures == before + 4)
        #expect(try Self.handshakes(bed, "success") == 5)
        #expect(bed["app"].requests.count == 5)
        #expect(bed.gateway.isRunning)
        #expect(bed.stop() == .exited(0))
    }

    @Test(arguments: [8443, 443])
    func aPlaintextListenerRedirectsToHTTPS(port: Int) throws {
        let bed = try Testbed(upstreams: ["app": .echo]) { ports in
            TestConfig.document(
                port: ports.listener, routes: [TestConfig.route("/", to: "app")],
                upstreams: ["app": TestConfig.upstream([ports["app"]])], listenerExtra: "\"redirect_to_https\": \(port)")
        }
        let suffix = port == 443 ? "" : ":\(port)"
        for (host, location) in [
            ("shop.example.com:8080", "https://shop.example.com\(suffix)/a/b?x=1&y=%20"),
            ("[::1]:8080", "https://[::1]\(suffix)/a/b?x=1&y=%20"),
        ] {
            let response = try bed.client().request("GET /a/b?x=1&y=%20 HTTP/1.1\r\nHost: \(host)\r\n\r\n")
            #expect(response.status == 308)
            #expect(response.head.header("location") == location)
            #expect(response.bodyText.contains("\"https_required\""))
        }
        // A Host that is not a plain name would be copied into location: refused.
        for host in ["evil.com@good.com", "good.com/evil", "a b"] {
            let response = try bed.client().request("GET / HTTP/1.1\r\nHost: \(host)\r\n\r\n")
            #expect(response.status == 400, "\(host)")
        }
        #expect(bed["app"].requests.isEmpty)
        #expect(bed.stop() == .exited(0))
    }
}
