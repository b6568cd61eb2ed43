import MeshHTTP1
import MeshProxy
import Testing

@Suite struct ResponseHeadBuilderTests {
    /// The head the client gets for the upstream head `response` (to a `method` request), or nil when it did not
    /// fit `capacity` bytes.
    func clientHead(
        _ response: String, route: CompiledRoute?, persistence: ResponseHeadBuilder.Persistence, dechunk: Bool = false,
        requestID: String = "rid", method: HTTPMethod = .get, capacity: Int = 4096
    ) throws -> String? {
        let bytes = Array(response.utf8)
        let headers = UnsafeMutableBufferPointer<HTTPHeaderField>.allocate(capacity: 100)
        defer { headers.deallocate() }
        return try bytes.withUnsafeBytes { buffer in
            var parser = ResponseParser()
            guard case .complete(let head) = parser.parse(buffer, headers: headers, requestMethod: method) else {
                throw ProxyTestError.unparsed(response)
            }
            var out = [UInt8](repeating: 0, count: capacity)
            let count: Int? = Array(requestID.utf8).withUnsafeBytes { id in
                out.withUnsafeMutableBytes { o in
                    var w = HeadWriter(o)
                    ResponseHeadBuilder.write(
                        buffer: buffer, headers: headers, head: head, route: route, persistence: persistence,
                        dechunk: dechunk, requestID: id, into: &w)
                    return w.overflowed ? nil : w.count
                }
            }
            return count.map { String(decoding: out[0..<$0], as: UTF8.self) }
        }
    }

    /// `clientHead` for a keep-alive response without route, which must fit.
    func head(_ response: String, method: HTTPMethod = .get) throws -> String {
        try #require(try clientHead(response, route: nil, persistence: .keepAlive, method: method))
    }

    /// The head's field lines as (lowercased name, value).
    func fields(_ head: String) -> [(name: String, value: String)] {
        head.split(separator: "\r\n").dropFirst().map { line in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (parts[0].lowercased(), parts.count > 1 ? parts[1].trimmingPrefix(" ").description : "")
        }
    }

    func values(_ head: String, _ name: String) -> [String] { fields(head).filter { $0.name == name }.map(\.value) }

    @Test func hopByHopGoesAndEditsApply() throws {
        let config = try routesConfig([
            #"{"match": {"path_prefix": "/"}, "upstream": "app", "response_headers": {"set": {"x-frame-options": "DENY"}, "remove": ["server"]}}"#
        ])
        let head = try #require(
            try clientHead(
                "HTTP/1.1 200 OK\r\nServer: up\r\nConnection: keep-alive, X-Internal\r\nX-Internal: 1\r\n"
                    + "Keep-Alive: timeout=5\r\nX-Request-Id: upstream-id\r\nContent-Length: 2\r\n\r\n",
                route: config.listeners[0].routes[0], persistence: .keepAlive))
        #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n"))
        for gone in ["server", "connection", "x-internal", "keep-alive", "upstream-id"] {
            #expect(!head.lowercased().contains(gone), "\(gone) in \(head)")
        }
        #expect(head.contains("content-length: 2\r\n"))
        #expect(head.contains("x-request-id: rid\r\n"))
        #expect(head.contains("x-frame-options: DENY\r\n"))
        #expect(head.hasSuffix("\r\n\r\n"))
    }

    // Regression: issue 10 — an upstream `Connection: content-length` removed the copied content-length, so the
    // client read the body as the next response (and the same for the other fields the gateway writes itself).
    @Test(arguments: [
        "content-length", "Content-Length", "transfer-encoding", "x-request-id", "connection",
        "keep-alive, content-length",
        "date", "server", "te, trailer, upgrade", "close",
    ])
    func connectionTokensCannotRemoveFraming(_ tokens: String) throws {
        let length = try head(
            "HTTP/1.1 200 OK\r\nConnection: \(tokens)\r\nDate: d\r\nServer: s\r\nContent-Length: 5\r\n\r\n")
        #expect(values(length, "content-length") == ["5"], "\(length)")
        #expect(values(length, "x-request-id") == ["rid"], "\(length)")
        #expect(values(length, "date") == ["d"] && values(length, "server") == ["s"], "\(length)")
        #expect(values(length, "connection").isEmpty && values(length, "transfer-encoding").isEmpty, "\(length)")
        let chunked = try head("HTTP/1.1 200 OK\r\nConnection: \(tokens)\r\nTransfer-Encoding: chunked\r\n\r\n")
        #expect(values(chunked, "transfer-encoding") == ["chunked"], "\(chunked)")
        #expect(values(chunked, "content-length").isEmpty, "\(chunked)")
    }

    @Test func customConnectionTokensStillStripTheirField() throws {
        let out = try head(
            "HTTP/1.1 200 OK\r\nX-Hop: 1\r\nConnection: x-hop, content-length\r\nX-End: 2\r\nContent-Length: 0\r\n\r\n")
        #expect(values(out, "x-hop").isEmpty && values(out, "x-end") == ["2"], "\(out)")
        #expect(values(out, "content-length") == ["0"], "\(out)")
    }

    @Test func framingIsWrittenByTheGatewayNeverCopied() throws {
        // A list of identical lengths is one length (RFC 9110 §8.6); the client gets it once, in our spelling.
        let listed = try head("HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\nContent-Length: 7\r\n\r\n")
        #expect(values(listed, "content-length") == ["7"] && !listed.contains("Content-Length"), "\(listed)")
        let chunked = try head("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n")
        #expect(values(chunked, "transfer-encoding") == ["chunked"] && !chunked.contains("Chunked"), "\(chunked)")
    }

    @Test func headAnd304KeepTheLengthAnd204LosesIt() throws {
        #expect(
            values(try head("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", method: .head), "content-length") == ["9"])
        #expect(values(try head("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"), "content-length") == ["9"])
        #expect(values(try head("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"), "content-length").isEmpty)
        #expect(values(try head("HTTP/1.1 304 Not Modified\r\n\r\n"), "content-length").isEmpty)
    }

    /// Framing and hop-by-hop names are refused by config validation (ReservedHeaderTests); the gateway's own
    /// `x-request-id` is allowed there but must still not be doubled.
    @Test func routeSetCannotAddAFieldTheGatewayWrites() throws {
        let config = try routesConfig([
            #"{"match": {"path_prefix": "/"}, "upstream": "app", "response_headers": {"set": {"x-request-id": "fixed", "x-ok": "1"}}}"#
        ])
        let out = try #require(
            try clientHead(
                "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", route: config.listeners[0].routes[0],
                persistence: .close))
        #expect(values(out, "content-length") == ["3"], "\(out)")
        #expect(values(out, "transfer-encoding").isEmpty && values(out, "x-request-id") == ["rid"], "\(out)")
        #expect(values(out, "connection") == ["close"] && values(out, "x-ok") == ["1"], "\(out)")
    }

    // Regression: issue 10 — an upstream could fake the gateway's fallback marker.
    @Test func anUpstreamCannotClaimToBeAFallback() throws {
        let out = try #require(
            try clientHead(
                "HTTP/1.1 200 OK\r\nX-Meshgate-Fallback: 1\r\nx-meshgate-fallbacks: 2\r\nContent-Length: 0\r\n\r\n",
                route: nil, persistence: .keepAlive))
        #expect(values(out, "x-meshgate-fallback").isEmpty, "\(out)")
        #expect(values(out, "x-meshgate-fallbacks") == ["2"], "\(out)")
    }

    @Test func aHeadThatDoesNotFitIsReportedNotCut() throws {
        let response = "HTTP/1.1 200 OK\r\nX-Big: \(String(repeating: "b", count: 300))\r\nContent-Length: 1\r\n\r\n"
        #expect(try clientHead(response, route: nil, persistence: .keepAlive, capacity: 200) == nil)
        #expect(try clientHead(response, route: nil, persistence: .keepAlive, capacity: 400) != nil)
    }

    @Test(arguments: [
        (ResponseHeadBuilder.Persistence.keepAlive, nil as String?),
        (.keepAliveHTTP10, "connection: keep-alive"),
        (.close, "connection: close"),
    ])
    func persistenceIsStated(_ persistence: ResponseHeadBuilder.Persistence, _ field: String?) throws {
        let head = try #require(try clientHead("HTTP/1.1 204 No Content\r\n\r\n", route: nil, persistence: persistence))
        if let field {
            #expect(head.contains(field + "\r\n"))
        } else {
            #expect(!head.lowercased().contains("connection"))
        }
    }

    @Test func chunkedStaysChunkedUnlessDechunked() throws {
        let response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        #expect(try head(response).contains("transfer-encoding: chunked\r\n"))
        let dechunked = try #require(try clientHead(response, route: nil, persistence: .close, dechunk: true))
        #expect(!dechunked.contains("transfer-encoding"))
    }

    @Test func switchingProtocolsKeepsTheUpgrade() throws {
        let head = try #require(
            try clientHead(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", route: nil,
                persistence: .close))
        #expect(head.contains("Upgrade: websocket\r\n") && head.hasSuffix("connection: upgrade\r\n\r\n"), "\(head)")
    }
}
