import Glibc
import MeshBlockingHTTP
import MeshPosix
import MeshTLS
import MeshTestSupport
import Testing

/// The client against real sockets: a `TestUpstream` answering exact bytes on a free 127.0.0.1 port, and
/// Python's `ssl` server with certificates made by the `openssl` CLI for TLS.
@Suite struct BlockingHTTPClientTests {
    static func get(_ port: UInt16, method: String = "GET", timeoutMs: Int = 5000, maxBodyBytes: Int = 1 << 20)
        throws(BlockingHTTPError) -> BlockingHTTPResponse
    {
        let request = BlockingHTTPRequest(method: method, host: "127.0.0.1", port: port, target: "/x")
        return try BlockingHTTPClient.send(request, timeoutMs: timeoutMs, maxBodyBytes: maxBodyBytes)
    }

    @Test func aContentLengthBodyEndsTheReadWhileTheServerStaysOpen() throws {
        let server = try TestUpstream(.rawKeepAlive(Array("HTTP/1.1 201 Created\r\nReplay-Nonce: abc\r\nContent-Length: 5\r\n\r\nhello".utf8)))
        defer { server.shutdown() }
        let response = try Self.get(server.port)
        #expect(response.status == 201)
        #expect(response.header("replay-nonce") == "abc")
        #expect(response.body == Array("hello".utf8))
    }

    @Test func aChunkedBodyIsDechunked() throws {
        let server = try TestUpstream(.rawKeepAlive(Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\n\r\n".utf8)))
        defer { server.shutdown() }
        #expect(try Self.get(server.port).body == Array("abcde".utf8))
    }

    @Test func aBodyWithoutFramingRunsUntilTheClose() throws {
        let server = try TestUpstream(.raw(Array("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 503 Busy\r\n\r\nrest".utf8)))
        defer { server.shutdown() }
        let response = try Self.get(server.port)
        #expect(response.status == 503)
        #expect(response.body == Array("rest".utf8))
    }

    @Test func theRequestCarriesHostLengthCloseAndTheBody() throws {
        let server = try TestUpstream(.rawKeepAlive(Array("HTTP/1.1 204 No Content\r\n\r\n".utf8)))
        let request = BlockingHTTPRequest(
            method: "POST", host: "127.0.0.1", port: server.port, target: "/v1/traces",
            headers: [("Content-Type", "application/json")], body: Array("{}".utf8))
        #expect(try BlockingHTTPClient.send(request, timeoutMs: 5000).status == 204)
        defer { server.shutdown() }
        let received = try #require(server.waitForRequests(1).first)
        let text = String(decoding: received.head.raw + received.body, as: UTF8.self)
        #expect(text.hasPrefix("POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\n"), "\(text)")
        #expect(text.contains("Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n"))
        #expect(text.hasSuffix("\r\n\r\n{}"))
    }

    @Test func aServerThatNeverAnswersIsATimeout() throws {
        let server = try TestUpstream(.neverAnswer)
        defer { server.shutdown() }
        #expect(throws: BlockingHTTPError.timeout(ms: 300)) { try Self.get(server.port, timeoutMs: 300) }
    }

    @Test func aClosedPortIsConnectionRefused() throws {
        let port = try TestSocket.freePort()
        #expect(throws: BlockingHTTPError.system(SystemError(errno: ECONNREFUSED, call: "connect"))) {
            try Self.get(port)
        }
    }

    @Test(arguments: [
        "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
        "HTTP/1.1 200 OK\r\n\r\n" + String(repeating: "x", count: 11),
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n",
    ])
    func aBodyOverTheLimitIsRefused(_ answer: String) throws {
        let server = try TestUpstream(.raw(Array(answer.utf8)))
        defer { server.shutdown() }
        #expect(throws: BlockingHTTPError.tooLarge(limit: 10)) { try Self.get(server.port, maxBodyBytes: 10) }
    }

    @Test(arguments: [
        ("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort", "body ended after 5 of 9 bytes"),
        ("", "closed without a response"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", "closed before the last chunk"),
    ])
    func aResponseCutShortIsMalformed(_ answer: String, _ reason: String) throws {
        let server = try TestUpstream(.raw(Array(answer.utf8)))
        defer { server.shutdown() }
        #expect(throws: BlockingHTTPError.badResponse(reason)) { try Self.get(server.port) }
    }

    @Test func aHeadResponseHasNoBody() throws {
        let server = try TestUpstream(.rawKeepAlive(Array("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n".utf8)))
        defer { server.shutdown() }
        let response = try Self.get(server.port, method: "HEAD")
        #expect(response.status == 200 && response.body.isEmpty)
    }

    @Test func theDemoReadinessConnectOnlyCheckConnects() throws {
        let server = try TestUpstream(.raw(Array("HTTP/1.1 200 OK\r\n\r\n".utf8)))
        defer { server.shutdown() }
        let socket = try DeadlineSocket.connect(host: "127.0.0.1", port: server.port, timeoutMs: 1000)
        socket.close()
    }
}
