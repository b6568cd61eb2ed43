import MeshHTTP1
import MeshProxy
import Testing

@Suite struct ResponseHeadBuilderTests {
    func clientHead(
        _ response: String, route: CompiledRoute?, persistence: ResponseHeadBuilder.Persistence, dechunk: Bool = false,
        requestID: String = "rid"
    ) throws -> String {
        let bytes = Array(response.utf8)
        let headers = UnsafeMutableBufferPointer<HTTPHeaderField>.allocate(capacity: 100)
        defer { headers.deallocate() }
        return try bytes.withUnsafeBytes { buffer in
            var parser = ResponseParser()
            guard case .complete(let head) = parser.parse(buffer, headers: headers, requestMethod: .get) else {
                throw ProxyTestError.unparsed(response)
            }
            var out = [UInt8](repeating: 0, count: 4096)
            let count = Array(requestID.utf8).withUnsafeBytes { id in
                out.withUnsafeMutableBytes { o in
                    var w = HeadWriter(o)
                    ResponseHeadBuilder.write(
                        buffer: buffer, headers: headers, head: head, route: route, persistence: persistence,
                        dechunk: dechunk, requestID: id, into: &w)
                    return w.count
                }
            }
            return String(decoding: out[0..<count], as: UTF8.self)
        }
    }

    @Test func hopByHopGoesAndEditsApply() throws {
        let config = try routesConfig([
            #"{"match": {"path_prefix": "/"}, "upstream": "app", "response_headers": {"set": {"x-frame-options": "DENY"}, "remove": ["server"]}}"#
        ])
        let head = try clientHead(
            "HTTP/1.1 200 OK\r\nServer: up\r\nConnection: keep-alive, X-Internal\r\nX-Internal: 1\r\nKeep-Alive: timeout=5\r\n"
                + "X-Request-Id: upstream-id\r\nContent-Length: 2\r\n\r\n",
            route: config.listeners[0].routes[0], persistence: .keepAlive)
        #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n"))
        for gone in ["server", "connection", "x-internal", "keep-alive", "upstream-id"] {
            #expect(!head.lowercased().contains(gone), "\(gone) in \(head)")
        }
        #expect(head.contains("Content-Length: 2\r\n"))
        #expect(head.contains("x-request-id: rid\r\n"))
        #expect(head.contains("x-frame-options: DENY\r\n"))
        #expect(head.hasSuffix("\r\n\r\n"))
    }

    @Test(arguments: [
        (ResponseHeadBuilder.Persistence.keepAlive, nil as String?),
        (.keepAliveHTTP10, "connection: keep-alive"),
        (.close, "connection: close"),
    ])
    func persistenceIsStated(_ persistence: ResponseHeadBuilder.Persistence, _ field: String?) throws {
        let head = try clientHead("HTTP/1.1 204 No Content\r\n\r\n", route: nil, persistence: persistence)
        if let field {
            #expect(head.contains(field + "\r\n"))
        } else {
            #expect(!head.lowercased().contains("connection"))
        }
    }

    @Test func chunkedStaysChunkedUnlessDechunked() throws {
        let response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        #expect(
            try clientHead(response, route: nil, persistence: .keepAlive).contains("transfer-encoding: chunked\r\n"))
        #expect(
            !(try clientHead(response, route: nil, persistence: .close, dechunk: true)).contains("transfer-encoding"))
    }

    @Test func switchingProtocolsKeepsTheUpgrade() throws {
        let head = try clientHead(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", route: nil,
            persistence: .close)
        #expect(head.contains("Upgrade: websocket\r\n") && head.hasSuffix("connection: upgrade\r\n\r\n"), "\(head)")
    }
}
