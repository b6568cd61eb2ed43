import Foundation
import Glibc
import MeshSync
import MeshTestSupport
import Testing

/// `"protocol": "h2c"` upstreams (SPEC §10) against an independent HTTP/2 server (Python `h2`): what the server
/// receives is the client's request in HTTP/2's form (RFC 9113 §8.2.2), answers come back whole to HTTP/1.1 and
/// HTTP/2 clients, streams share one connection per worker, and failures behave like an HTTP/1 upstream's.
@Suite struct H2UpstreamTests {
    static func bed(_ server: H2UpstreamServer, workers: Int = 1, retry: String = #""retry": {"retries": 0}"#) throws
        -> Testbed
    {
        try Testbed(upstreams: [:], workers: workers) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin,
                routes: [TestConfig.route("/", to: "grpcish", retry)],
                upstreams: ["grpcish": #"{ "endpoints": ["127.0.0.1:\#(server.port)"], "protocol": "h2c" }"#])
        }
    }

    @Test func anHTTP1RequestReachesTheH2UpstreamInHTTP2Form() throws {
        let server = try H2UpstreamServer()
        let bed = try Self.bed(server)
        defer { bed.stop() }
        let response = try bed.request(
            "GET", "/hello?x=1",
            headers: "Connection: keep-alive, x-drop-me\r\nx-drop-me: 1\r\nTE: gzip\r\nUser-Agent: probe\r\n")
        #expect(response.status == 200, "\(response)")
        #expect(response.header("x-upstream") == "h2", "\(response)")
        let echo = try H2UpstreamServer.echo(response.bodyText)
        #expect(echo["method"] as? String == "GET")
        #expect(echo["scheme"] as? String == "http")
        #expect(echo["authority"] as? String == "test.local", "Host becomes :authority")
        #expect(echo["path"] as? String == "/hello?x=1")
        let headers = (echo["headers"] as? [[String]] ?? []).map { ($0[0], $0[1]) }
        let names = headers.map(\.0)
        for connectionSpecific in ["connection", "keep-alive", "transfer-encoding", "upgrade", "host", "x-drop-me"] {
            #expect(!names.contains(connectionSpecific), "\(connectionSpecific) in \(names)")
        }
        // The only TE HTTP/2 allows, always sent to h2 upstreams (SPEC §10), whatever the client said.
        #expect(headers.filter { $0.0 == "te" }.map(\.1) == ["trailers"], "\(headers)")
        #expect(headers.contains { $0 == ("user-agent", "probe") }, "\(headers)")
        #expect(names.contains("x-forwarded-for") && names.contains("x-request-id"), "\(names)")
    }

    @Test(arguments: ["Content-Length: 11\r\n\r\nhello world", "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"])
    func requestBodiesArriveWhole(framing: String) throws {
        let server = try H2UpstreamServer()
        let bed = try Self.bed(server)
        defer { bed.stop() }
        let response = try bed.client().request(
            "POST /submit HTTP/1.1\r\nHost: test.local\r\n" + framing, method: "POST")
        #expect(response.status == 200, "\(response)")
        let echo = try H2UpstreamServer.echo(response.bodyText)
        #expect(echo["body"] as? String == "hello world", "\(echo)")
        #expect(echo["method"] as? String == "POST")
    }

    /// Flow control both ways: 200,000 octets up and down (both above the 65,535-octet initial windows).
    @Test func largeBodiesBothWays() throws {
        let server = try H2UpstreamServer()
        let bed = try Self.bed(server)
        defer { bed.stop() }
        let big = String(repeating: "y", count: 200_000)
        let response = try bed.request("POST", "/echo", body: big)
        #expect(response.status == 200)
        #expect((try H2UpstreamServer.echo(response.bodyText))["body"] as? String == big)
        let download = try bed.request("GET", "/big")
        #expect(download.status == 200)
        #expect(download.body == Array(repeating: UInt8(ascii: "x"), count: 200_000), "\(download.bodyCount) octets")
    }

    /// Regression: issue 12 — request bytes the codec's output budget refused waited for a WINDOW_UPDATE that an
    /// upstream with a large window never sends: an upload larger than the budget stalled while the upstream's
    /// socket was full, until the route's timeout.
    @Test func aLargeUploadToAWideWindowUpstreamThatPausesArrivesWhole() throws {
        let server = try H2UpstreamServer(wideWindows: true)
        let bed = try Self.bed(
            server, retry: #""retry": {"retries": 0}, "timeout_ms": 30000, "per_try_timeout_ms": 30000"#)
        defer { bed.stop() }
        let size = 8 * 1024 * 1024
        let body = String(decoding: (0..<size).map { UInt8(97 + $0 % 26) }, as: UTF8.self)
        let response = try bed.request("POST", "/slow-read", body: body)
        #expect(response.status == 200, "\(response.bodyText)")
        let answer = try H2UpstreamServer.echo(response.bodyText)
        #expect(answer["length"] as? Int == size)
        #expect(answer["intact"] as? Bool == true)
    }

    /// Trailers (gRPC's `grpc-status`) reach an HTTP/1.1 client in the chunked trailer section.
    @Test func responseTrailersReachTheClient() throws {
        let server = try H2UpstreamServer()
        let bed = try Self.bed(server)
        defer { bed.stop() }
        let raw = try Tool.curl(["--raw", "-i", "http://127.0.0.1:\(bed.ports.listener)/trailers"])
        #expect(raw.termination == .exited(0), "\(raw.stderr)")
        let text = raw.stdout.lowercased()
        #expect(text.contains("transfer-encoding: chunked"), "\(raw.stdout)")
        #expect(text.contains("\r\n0\r\ngrpc-status: 0\r\nx-trailer: yes\r\n\r\n"), "\(raw.stdout)")
    }

    @Test func aHeadOnlyAnswerAndHTTP2Clients() throws {
        let server = try H2UpstreamServer()
        let bed = try Self.bed(server)
        defer { bed.stop() }
        let empty = try bed.request("GET", "/empty")
        #expect(empty.status == 204, "\(empty)")
        // h2 client → gateway → h2c upstream.
        let h2 = try Tool.curl(["--http2-prior-knowledge", "-i", "http://127.0.0.1:\(bed.ports.listener)/both"])
        #expect(h2.stdout.hasPrefix("HTTP/2 200"), "\(h2.stdout) \(h2.stderr)")
        #expect(h2.stdout.contains("\"path\": \"/both\""), "\(h2.stdout)")
    }

    /// Concurrent requests are streams of one connection per worker, not a connection each.
    @Test func concurrentRequestsShareOneConnectionPerWorker() throws {
        let server = try H2UpstreamServer()
        let bed = try Self.bed(server, workers: 2)
        defer { bed.stop() }
        let results = Locked<[String]>([])
        let port = bed.ports.listener
        DispatchQueue.concurrentPerform(iterations: 40) { i in
            let response = try? RawClient(port: port).request("GET /c\(i) HTTP/1.1\r\nHost: test.local\r\n\r\n")
            let connection = (try? H2UpstreamServer.echo(response?.bodyText ?? ""))?["connection"] as? Int
            results.withLock { $0.append(response?.status == 200 ? "\(connection ?? -1)" : "failed") }
        }
        let seen = results.withLock { $0 }
        #expect(!seen.contains("failed"), "\(seen)")
        #expect(Set(seen).count <= 2, "at most one connection per worker: \(Set(seen))")
    }

    /// A reset stream and a dead upstream are upstream failures (502 here, retries off); the gateway goes on and
    /// reconnects once the server is back.
    @Test func resetsAndAKilledServerAreUpstreamFailures() throws {
        let server = try H2UpstreamServer()
        let bed = try Self.bed(server)
        defer { bed.stop() }
        #expect(try bed.request("GET", "/ok").status == 200)
        let reset = try bed.request("GET", "/reset")
        #expect(reset.status == 502, "\(reset)")
        #expect(reset.jsonString("error") == "bad_gateway", "\(reset)")
        server.stop()
        let down = try bed.request("GET", "/down")
        #expect([502, 503].contains(down.status), "\(down)")
        let again = try H2UpstreamServer(port: server.port)
        defer { again.stop() }
        #expect(Poll.until(timeoutMs: 10_000, intervalMs: 100) { try bed.request("GET", "/back").status == 200 })
        #expect(bed.gateway.isRunning)
    }

    /// SPEC §10: a stream the upstream never processed — refused with REFUSED_STREAM, or above a GOAWAY's
    /// last-stream-id — is retried as a `connect-failure`, so even a POST goes again (a reset POST does not).
    @Test(arguments: ["/refuse-once", "/goaway-once"])
    func unprocessedStreamsAreRetriedLikeConnectFailures(path: String) throws {
        let server = try H2UpstreamServer()
        let bed = try Self.bed(server, retry: #""retry": {"retries": 1, "on": ["connect-failure"]}"#)
        defer { bed.stop() }
        let response = try bed.request("POST", path, body: "once")
        #expect(response.status == 200, "\(response)")
        #expect((try H2UpstreamServer.echo(response.bodyText))["body"] as? String == "once", "\(response)")
        Poll.until(timeoutMs: 5000) { !JSONLog.lines(bed.gateway.child.stdout, message: "request").isEmpty }
        let line = JSONLog.lines(bed.gateway.child.stdout, message: "request").last
        #expect(line?["attempts"] as? Int == 2, "\(String(describing: line))")
        let metrics = try bed.admin("/metrics").bodyText
        #expect(metrics.contains(#"outcome="connect_failure"} 1"#), "\(metrics)")
        // A stream reset any other way may have been processed: a POST is not sent twice.
        let reset = try bed.request("POST", "/reset", body: "x")
        #expect(reset.status == 502, "\(reset)")
    }

    /// `"protocol": "h2"`: HTTP/2 over TLS to an independent server (Python h2 behind Python's ssl), verified
    /// against the test CA, ALPN h2, `:scheme` https; a server that does not agree on h2 is a connect failure
    /// (a 502 here), and the gateway goes on.
    @Test func h2OverTLSNeedsALPNh2() throws {
        let pki = TestPKI.shared
        let upstream = { (server: H2UpstreamServer) in
            #"{ "endpoints": ["127.0.0.1:\#(server.port)"], "protocol": "h2", "#
                + #""tls": { "ca_file": "\#(pki.path("ca.crt"))", "server_name": "localhost" } }"#
        }
        let h2 = try H2UpstreamServer(tls: (pki.path("localhost.crt"), pki.path("localhost.key"), ["h2"]))
        let http1Only = try H2UpstreamServer(tls: (pki.path("localhost.crt"), pki.path("localhost.key"), ["http/1.1"]))
        let bed = try Testbed(upstreams: [:]) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin,
                routes: [
                    TestConfig.route("/wrong", to: "http1only", #""retry": {"retries": 0}"#),
                    TestConfig.route("/", to: "secure", #""retry": {"retries": 0}"#),
                ],
                upstreams: ["secure": upstream(h2), "http1only": upstream(http1Only)])
        }
        defer { bed.stop() }
        for i in 0..<3 {
            let response = try bed.request("POST", "/hello/\(i)", body: "over tls")
            #expect(response.status == 200, "\(response)")
            let echo = try H2UpstreamServer.echo(response.bodyText)
            #expect(echo["scheme"] as? String == "https" && echo["body"] as? String == "over tls", "\(echo)")
            #expect(echo["connection"] as? Int == 1, "one TLS connection carries every stream: \(echo)")
        }
        let refused = try bed.request("GET", "/wrong")
        #expect(refused.status == 502 && refused.jsonString("error") == "bad_gateway", "\(refused)")
        #expect(try bed.request("GET", "/after").status == 200)
    }
}
