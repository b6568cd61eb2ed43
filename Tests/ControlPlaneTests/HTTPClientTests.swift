import Glibc
import MeshControl
import MeshGateway
import MeshPosix
import MeshTestSupport
import Testing

@Suite("HTTPClient")
struct HTTPClientTests {
    /// Serves `reply` for every path and returns the client's result for `/x`.
    private func fetch(
        _ reply: UpstreamBehavior,
        timeoutMs: Int = 2000,
        maxBodyBytes: Int = 1 << 20
    ) async throws -> Result<HTTPClientResponse, HTTPClientError> {
        let server = try TestUpstream(.byTarget { _ in reply })
        let client = try ClientLoop()
        defer {
            client.stop()
            server.shutdown()
        }
        let result = await client.get(server.url("/x"), timeoutMs: timeoutMs, maxBodyBytes: maxBodyBytes)
        #expect(await client.inFlight() == 0)
        return result
    }

    static let bodies: [(String, [UInt8], String)] = [
        ("content-length", httpResponse(body: "hello", extraHeaders: "X-Kind: cl\r\n"), "hello"),
        ("chunked", chunkedResponse(["hel", "lo", " world"]), "hello world"),
        ("close-delimited", Array("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end".utf8), "until the end"),
        ("HTTP/1.0 close-delimited", Array("HTTP/1.0 200 OK\r\n\r\nold style".utf8), "old style"),
        ("1xx then final", Array("HTTP/1.1 100 Continue\r\n\r\n".utf8) + httpResponse(body: "after"), "after"),
        ("empty content-length", httpResponse(body: ""), ""),
    ]

    @Test("reads a body framed by", arguments: bodies.map { WireCase($0.0, $0.1, expected: $0.2) })
    func readsBody(_ wire: WireCase) async throws {
        let (reply, expected) = (wire.bytes, wire.expected)
        let response = try await fetch(.raw(reply)).get()
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == expected)
    }

    @Test func keepsStatusAndHeaders() async throws {
        let response = try await fetch(
            .raw(
                httpResponse(
                    status: 503,
                    reason: "Busy",
                    body: "no",
                    extraHeaders: "Retry-After: 1\r\n"
                )
            )
        ).get()
        #expect(response.status == 503)
        #expect(!response.isSuccess)
        #expect(response.header("retry-after") == "1")
    }

    @Test func refusedConnectionIsConnectFailed() async throws {
        // A port that was just free: bind it, read it back, close it; nothing listens there now.
        let server = try TestUpstream(.byTarget { _ in .neverAnswer })
        let url = server.url("/x")
        server.stopListening()
        defer { server.shutdown() }
        let client = try ClientLoop()
        defer { client.stop() }
        let result = await client.get(url)
        guard case .failure(.connectFailed(let address, let reason)) = result else {
            Issue.record("expected connectFailed, got \(result)")
            return
        }
        #expect(address.contains("127.0.0.1:\(server.port)"))
        #expect(reason.contains("refused"))
    }

    @Test func silentServerIsTimeout() async throws {
        let result = try await fetch(.neverAnswer, timeoutMs: 150)
        guard case .failure(.timeout(_, let afterMs)) = result else {
            Issue.record("expected timeout, got \(result)")
            return
        }
        #expect(afterMs == 150)
    }

    static let garbage: [(String, [UInt8])] = [
        ("not HTTP", Array("SSH-2.0-OpenSSH_9.2\r\n\r\n".utf8)),
        ("bad status", Array("HTTP/1.1 2000 OK\r\n\r\n".utf8)),
        ("CL and TE", Array("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)),
        ("bad chunk size", Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".utf8)),
        ("truncated body", Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".utf8)),
        ("truncated chunked body", Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab".utf8)),
        ("closed without answer", []),
        ("closed mid-head", Array("HTTP/1.1 200 OK\r\nContent-".utf8)),
    ]

    @Test("garbage is badResponse", arguments: garbage.map { WireCase($0.0, $0.1) })
    func garbageIsBadResponse(_ wire: WireCase) async throws {
        let (name, reply) = (wire.name, wire.bytes)
        let result = try await fetch(.raw(reply))
        guard case .failure(.badResponse) = result else {
            Issue.record("\(name): expected badResponse, got \(result)")
            return
        }
    }

    static let oversized: [(String, [UInt8])] = [
        ("content-length", httpResponse(body: String(repeating: "a", count: 100))),
        ("chunked", chunkedResponse([String(repeating: "a", count: 8), String(repeating: "b", count: 8)])),
        ("close-delimited", Array(("HTTP/1.1 200 OK\r\n\r\n" + String(repeating: "c", count: 50)).utf8)),
    ]

    @Test("a body over the limit is bodyTooLarge", arguments: oversized.map { WireCase($0.0, $0.1) })
    func oversizedBody(_ wire: WireCase) async throws {
        let (name, reply) = (wire.name, wire.bytes)
        let result = try await fetch(.raw(reply), maxBodyBytes: 10)
        guard case .failure(.bodyTooLarge(_, let limit)) = result else {
            Issue.record("\(name): expected bodyTooLarge, got \(result)")
            return
        }
        #expect(limit == 10)
    }

    @Test func bodyExactlyAtTheLimitIsAccepted() async throws {
        let response = try await fetch(.raw(chunkedResponse(["12345", "67890"])), maxBodyBytes: 10).get()
        #expect(response.body.count == 10)
    }

    @Test func otherSchemesAreRefusedWithAClearError() async throws {
        let client = try ClientLoop()
        defer { client.stop() }
        let result = await client.get("ftp://127.0.0.1:1/jwks")
        guard case .failure(let error) = result, case .unsupportedScheme = error else {
            Issue.record("expected unsupportedScheme, got \(result)")
            return
        }
        #expect(error.description.contains("only http:// and https://"))
    }

    @Test func namesNeedAResolver() async throws {
        let client = try ClientLoop()
        defer { client.stop() }
        let result = await client.get("http://localhost:1/")
        guard case .failure(.resolveFailed(let host, _)) = result else {
            Issue.record("expected resolveFailed, got \(result)")
            return
        }
        #expect(host == "localhost")
    }

    @Test func namesResolveOnTheResolverThread() async throws {
        let server = try TestUpstream(.byTarget { _ in .raw(httpResponse(body: "named")) })
        let resolver = BlockingResolver()
        let client = try ClientLoop(resolver: resolver)
        defer {
            client.stop()
            resolver.stop()
            server.shutdown()
        }
        let result = await client.get("http://localhost:\(server.port)/")
        // The server listens on 127.0.0.1 only; where localhost resolves to ::1 first the connect is refused,
        // which still proves the name was resolved (off the loop) and used.
        let first = try SocketAddress.resolve(host: "localhost", port: server.port).first
        if first?.family == AF_INET {
            #expect(try String(decoding: result.get().body, as: UTF8.self) == "named")
        } else if case .failure(.resolveFailed) = result {
            Issue.record("localhost did not resolve: \(result)")
        }
    }
}

@Suite("HTTPTarget")
struct HTTPTargetTests {
    static let valid: [(String, HTTPTarget)] = [
        (
            "http://127.0.0.1:9101/.well-known/jwks.json",
            HTTPTarget(host: "127.0.0.1", port: 9101, path: "/.well-known/jwks.json")
        ),
        ("http://auth/jwks", HTTPTarget(host: "auth", port: 80, path: "/jwks")),
        ("http://auth:8080", HTTPTarget(host: "auth", port: 8080, path: "/")),
        ("http://[::1]:9/k?x=1#frag", HTTPTarget(host: "::1", port: 9, path: "/k?x=1")),
        ("HTTP://h:1?q", HTTPTarget(host: "h", port: 1, path: "/?q")),
    ]

    @Test(arguments: valid)
    func parses(_ url: String, _ expected: HTTPTarget) throws {
        #expect(try HTTPTarget.parse(url).get() == expected)
    }

    @Test(arguments: ["127.0.0.1:80/x", "http://", "http://h:0/", "http://h:99999/", "http://u@h/", "http://[::1/"])
    func refusesInvalid(_ url: String) {
        guard case .failure(.invalidURL) = HTTPTarget.parse(url) else {
            Issue.record("\(url) should be invalid")
            return
        }
    }

    @Test func hostHeaderBracketsIPv6() {
        #expect(HTTPTarget(host: "::1", port: 80, path: "/").hostHeader == "[::1]:80")
        #expect(HTTPTarget(host: "auth", port: 80, path: "").path == "/")
    }
}

/// Bytes a test server sends, named for the test report (instead of printing every byte).
struct WireCase: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let expected: String

    init(_ name: String, _ bytes: [UInt8], expected: String = "") {
        self.name = name
        self.bytes = bytes
        self.expected = expected
    }

    var testDescription: String { name }
}
