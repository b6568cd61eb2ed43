import MeshHTTP1
@testable import MeshHTTP2
import Testing

@testable import MeshGateway

/// The HTTP/1.1 ↔ HTTP/2 mapping of h2c upstreams, without sockets: request heads (RFC 9113 §8.2.2, §8.3.1) and
/// the framing the exchange reads for each kind of HTTP/2 answer.
@Suite struct H2UpstreamTranslationTests {
    static func request(_ text: String) throws -> HTTP2HeaderList? {
        let bytes = Array(text.utf8)
        let headers = UnsafeMutableBufferPointer<HTTPHeaderField>.allocate(capacity: 64)
        defer { headers.deallocate() }
        var parser = RequestParser()
        return try bytes.withUnsafeBytes { raw in
            guard case .complete(let head) = parser.parse(raw, headers: headers) else {
                throw HTTPParseError.headersTooLarge
            }
            return H2UpstreamTranslation.requestHead(raw, head: head, headers: headers)
        }
    }

    static func pairs(_ list: HTTP2HeaderList) -> [String] {
        (0..<list.count).map { String(decoding: list.name($0), as: UTF8.self) + ": " + String(decoding: list.value($0), as: UTF8.self) }
    }

    @Test func requestHeadIsPseudoHeadersThenFieldsWithoutConnectionSpecificOnes() throws {
        let list = try #require(
            try Self.request(
                "POST /a/b?c=d HTTP/1.1\r\nHost: api.example\r\nContent-Length: 3\r\nX-Up: One\r\nConnection: keep-alive\r\n"
                    + "Keep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: h2c\r\n\r\n"))
        #expect(
            Self.pairs(list) == [
                ":method: POST", ":scheme: http", ":authority: api.example", ":path: /a/b?c=d", "content-length: 3",
                "x-up: One", "te: trailers",
            ])
    }

    static func head(_ status: Int, _ fields: [(String, String)]) -> HTTP2ResponseHead {
        var list = HTTP2HeaderList()
        list.append(":status", String(status))
        for (name, value) in fields { list.append(name, value) }
        return HTTP2ResponseHead(fields: list, regularFieldsStart: 1, status: status, contentLength: nil)
    }

    @Test(arguments: [
        (200, [("content-length", "5")], false, false, "content-length: 5\r\n", H2UpstreamTranslation.BodyFraming.raw),
        (200, [], false, false, "transfer-encoding: chunked\r\n", .chunked),
        (200, [], true, false, "content-length: 0\r\n", .none),
        (200, [("content-length", "9")], true, false, "content-length: 0\r\n", .none),
        (200, [("content-length", "9")], false, true, "content-length: 9\r\n", .none),
        (204, [], true, false, "", .none),
        (304, [], false, false, "", .none),
    ])
    func responseFraming(
        status: Int, fields: [(String, String)], endStream: Bool, headRequest: Bool, framingLine: String,
        framing: H2UpstreamTranslation.BodyFraming
    ) {
        let (bytes, chosen) = H2UpstreamTranslation.responseHead(
            Self.head(status, fields), endStream: endStream, headRequest: headRequest)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 \(status) "), "\(text)")
        #expect(text.hasSuffix(framingLine + "\r\n"), "\(text)")
        #expect(chosen == framing)
        #expect(text.components(separatedBy: "content-length").count <= 2, "one content-length at most: \(text)")
    }

    @Test func lastChunkCarriesTrailers() {
        var trailers = HTTP2HeaderList()
        trailers.append("grpc-status", "0")
        trailers.append("grpc-message", "ok")
        #expect(String(decoding: H2UpstreamTranslation.lastChunk(trailers: trailers), as: UTF8.self)
            == "0\r\ngrpc-status: 0\r\ngrpc-message: ok\r\n\r\n")
        #expect(String(decoding: H2UpstreamTranslation.lastChunk(trailers: nil), as: UTF8.self) == "0\r\n\r\n")
    }
}
