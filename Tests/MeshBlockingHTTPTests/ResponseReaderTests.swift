import MeshBlockingHTTP
import Testing

/// The framing without sockets: each response fed whole, and fed one byte at a time (every split point must give
/// the same result, picohttpparser-style).
struct ResponseReaderTests {
    struct Case: Sendable, CustomStringConvertible {
        let text: String
        var method = "GET"
        /// nil: an error is expected.
        let status: Int?
        var body = ""
        var description: String { text.debugDescription }
    }

    static let cases: [Case] = [
        Case(text: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", status: 200, body: "{}"),
        Case(text: "HTTP/1.1 200 OK\r\ncontent-length:  0 \r\n\r\n", status: 200),
        Case(text: "HTTP/1.1 204 No Content\r\n\r\n", status: 204),
        Case(text: "HTTP/1.0 503 Busy\r\nServer: x\r\n\r\nbody", status: 503, body: "body"),
        Case(text: "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", method: "HEAD", status: 200),
        Case(text: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
             status: 200, body: "abcde"),
        Case(
            text: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz", status: 200, body: "z"),
        Case(text: "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort", status: nil),
        Case(text: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", status: nil),
        Case(text: "SSH-2.0-OpenSSH\r\n\r\n", status: nil),
        Case(text: "HTTP/1.1 2000 OK\r\n\r\n", status: nil),
        Case(text: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", status: nil),
        Case(text: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", status: nil),
    ]

    /// Feeds `pieces` then EOF; the response, or nil on any error.
    static func read(_ pieces: [[UInt8]], method: String) -> BlockingHTTPResponse? {
        var reader = ResponseReader(method: method, maxBodyBytes: 1024)
        do {
            for piece in pieces {
                if let response = try piece.withUnsafeBytes({ bytes in
                    Result { () throws(BlockingHTTPError) in try reader.feed(bytes) }
                }).get() {
                    return response
                }
            }
            return try reader.end()
        } catch {
            return nil
        }
    }

    @Test(arguments: cases) func wholeAndByteByByte(_ c: Case) {
        let bytes = Array(c.text.utf8)
        for pieces in [[bytes], bytes.map { [$0] }] {
            let response = Self.read(pieces, method: c.method)
            #expect(response?.status == c.status)
            if c.status != nil { #expect(response?.body == Array(c.body.utf8)) }
        }
    }

    @Test func headersKeepOrderAndNames() throws {
        let text = "HTTP/1.1 200 OK\r\nRetry-After: 7\r\nLink: <a>\r\nLink: <b>\r\nContent-Length: 0\r\n\r\n"
        let response = try #require(Self.read([Array(text.utf8)], method: "GET"))
        #expect(response.headers.map(\.name) == ["Retry-After", "Link", "Link", "Content-Length"])
        #expect(response.header("retry-after") == "7")
        #expect(response.header("link") == "<a>")
    }
}
