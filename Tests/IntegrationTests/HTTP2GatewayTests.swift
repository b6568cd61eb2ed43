import Foundation
import Glibc
import MeshTestSupport
import Testing

/// SPEC §10 downstream h2c through the real gateway, driven by real clients (`curl --http2-prior-knowledge`,
/// and Python's `h2` for what curl cannot send): each stream is an exchange like an HTTP/1 request.
@Suite struct HTTP2GatewayTests {
    static func bed(_ behavior: UpstreamBehavior = .echo, routes: [String]? = nil) throws -> Testbed {
        try Testbed(upstreams: ["app": behavior]) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin,
                routes: routes ?? [TestConfig.route("/", to: "app", #""name": "all""#)],
                upstreams: ["app": TestConfig.upstream([ports["app"]])])
        }
    }

    /// Runs curl with `arguments`; returns (exit status, stdout, stderr).
    static func curl(_ bed: Testbed, _ arguments: [String]) throws -> (Termination, String, String) {
        let result = try Tool.curl(arguments)
        return (result.termination, result.stdout, result.stderr)
    }

    @Test func curlPriorKnowledgeGetsTheUpstreamsAnswerOverH2() throws {
        let bed = try Self.bed(.fixed(UpstreamReply(status: 200, headers: [("x-from", "app")], body: "hello h2")))
        defer { bed.stop() }
        let (status, out, err) = try Self.curl(
            bed, ["--http2-prior-knowledge", "-i", "http://127.0.0.1:\(bed.ports.listener)/hello?x=1"])
        #expect(status == .exited(0), "\(err)")
        #expect(out.hasPrefix("HTTP/2 200"), "\(out)")
        #expect(out.contains("x-from: app"), "\(out)")
        #expect(out.contains("x-request-id: "), "\(out)")
        #expect(out.hasSuffix("hello h2"), "\(out)")
        // The upstream got an ordinary HTTP/1.1 request with the gateway's framing and the client's authority.
        let received = try #require(bed["app"].requests.first)
        #expect(received.head.startLine == ["GET", "/hello?x=1", "HTTP/1.1"])
        #expect(received.head.header("host") == "127.0.0.1:\(bed.ports.listener)")
        #expect(received.head.header("x-forwarded-for") == "127.0.0.1")
    }

    @Test func manyStreamsOnOneConnectionAndRequestBodies() throws {
        let bed = try Self.bed()
        defer { bed.stop() }
        let url = "http://127.0.0.1:\(bed.ports.listener)"
        // Several URLs on one curl run share one HTTP/2 connection; one POST carries a body without a length.
        let (status, out, err) = try Self.curl(
            bed,
            ["--http2-prior-knowledge", "--parallel", "--parallel-immediate", "-w", "%{http_version} %{response_code}\n",
             "-o", "/dev/null", "\(url)/a", "-o", "/dev/null", "\(url)/b", "-o", "/dev/null", "\(url)/c",
             "-o", "/dev/null", "-X", "POST", "--data-binary", "payload-bytes", "\(url)/post"])
        #expect(status == .exited(0), "\(err)")
        #expect(out.split(separator: "\n").filter { $0 == "2 200" }.count == 4, "\(out)")
        let post = try #require(bed["app"].requests.first { $0.head.startLine.first == "POST" })
        #expect(post.bodyText == "payload-bytes")
    }

    @Test func gatewayErrorsAndRoutingApplyPerStream() throws {
        let bed = try Self.bed(routes: [TestConfig.route("/only", to: "app", #""name": "only""#)])
        defer { bed.stop() }
        let (status, out, _) = try Self.curl(
            bed, ["--http2-prior-knowledge", "-i", "http://127.0.0.1:\(bed.ports.listener)/elsewhere"])
        #expect(status == .exited(0))
        #expect(out.hasPrefix("HTTP/2 404"), "\(out)")
        #expect(out.contains(#""error":"no_route""#), "\(out)")
        // The access log line is the same as for HTTP/1.
        #expect(bed.stop() == .exited(0))
        let logged = JSONLog.lines(bed.gateway.child.stdout, message: "request")
        #expect(logged.contains {
            $0["status"] as? Int == 404 && $0["path"] as? String == "/elsewhere" && $0["protocol"] as? String == "HTTP/2"
        })
    }

    @Test func http1StillWorksOnTheSamePort() throws {
        let bed = try Self.bed()
        defer { bed.stop() }
        #expect(try bed.request("GET", "/plain").status == 200)
        let (status, out, _) = try Self.curl(bed, ["-i", "http://127.0.0.1:\(bed.ports.listener)/plain2"])
        #expect(status == .exited(0))
        #expect(out.hasPrefix("HTTP/1.1 200"), "\(out)")
    }

    @Test func h2ByALPNOnATLSListenerKeepsTheClientsIdentityFacts() throws {
        let bed = try Testbed(upstreams: ["app": .echo]) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin, routes: [TestConfig.route("/", to: "app")],
                upstreams: ["app": TestConfig.upstream([ports["app"]])],
                listenerExtra: TLSListenerTests.tlsMember(["localhost"], extra: #""alpn": ["h2", "http/1.1"]"#))
        }
        defer { bed.stop() }
        let h2 = try TLSListenerTests.curl(bed, path: "/secure", ["-sS", "-i", "--http2"])
        #expect(h2.exitCode == 0, "\(h2.stderr)")
        #expect(h2.stdout.hasPrefix("HTTP/2 200"), "\(h2.stdout)")
        let received = try #require(bed["app"].requests.first)
        #expect(received.head.header("x-forwarded-proto") == "https")
        // A client that offers only HTTP/1.1 still gets it.
        let http1 = try TLSListenerTests.curl(bed, path: "/one", ["-sS", "-i", "--http1.1"])
        #expect(http1.stdout.hasPrefix("HTTP/1.1 200"), "\(http1.stdout)")
    }
}
