import MeshACME
import Testing

@Suite struct WireTests {
    @Test func urlsSplitIntoHostPortAndPath() {
        #expect(ACMEWire.parse(url: "https://127.0.0.1:14000/dir")?.port == 14000)
        #expect(ACMEWire.parse(url: "https://acme.test/dir")?.port == 443)
        #expect(ACMEWire.parse(url: "https://[::1]:8443/x?y")?.host == "::1")
        #expect(ACMEWire.parse(url: "https://[::1]:8443/x?y")?.path == "/x?y")
        #expect(ACMEWire.parse(url: "http://acme.test/dir") == nil)  // ACME is HTTPS only
        #expect(ACMEWire.parse(url: "https://acme.test:99999/") == nil)
        #expect(ACMEWire.parse(url: "https://a.test/x y") == nil)
    }

    @Test func requestsCarryJoseJSONAndClose() throws {
        let target = try need(ACMEWire.parse(url: "https://ca.test:14000/acct"))
        let bytes = ACMEWire.serialize(ACMERequest(method: "POST", url: "", body: Array("{}".utf8)), target: target)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("POST /acct HTTP/1.1\r\nHost: ca.test:14000\r\n"))
        #expect(text.contains("Content-Type: application/jose+json\r\nContent-Length: 2\r\n"))
        #expect(text.contains("Connection: close\r\n"))
        #expect(text.hasSuffix("\r\n\r\n{}"))
    }

    @Test func responsesByLengthChunkedOrClose() throws {
        let sized = ACMEWire.parseResponse(Array("HTTP/1.1 201 Created\r\nReplay-Nonce: abc\r\nContent-Length: 2\r\n\r\n{}".utf8), headRequest: false)
        #expect(sized?.status == 201)
        #expect(sized?.header("replay-nonce") == "abc")
        #expect(sized?.body == Array("{}".utf8))
        let chunked = ACMEWire.parseResponse(
            Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\n\r\n".utf8), headRequest: false)
        #expect(chunked?.body == Array("abcde".utf8))
        let closed = ACMEWire.parseResponse(Array("HTTP/1.1 200 OK\r\n\r\nrest".utf8), headRequest: false)
        #expect(closed?.body == Array("rest".utf8))
        let head = ACMEWire.parseResponse(Array("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n".utf8), headRequest: true)
        #expect(head?.body == [])
        #expect(ACMEWire.parseResponse(Array("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort".utf8), headRequest: false) == nil)
        #expect(ACMEWire.parseResponse(Array("garbage".utf8), headRequest: false) == nil)
        #expect(ACMEWire.parseResponse(Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".utf8), headRequest: false) == nil)
        let retry = ACMEWire.parseResponse(Array("HTTP/1.1 200 OK\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n".utf8), headRequest: false)
        #expect(retry?.retryAfterSeconds == 7)
    }
}

/// `#require` for values inside expressions (the macro does not nest): throws when `value` is nil.
struct MissingValue: Error, CustomStringConvertible {
    let description: String
}

func need<T>(_ value: T?, _ file: String = #fileID, _ line: Int = #line) throws -> T {
    guard let value else { throw MissingValue(description: "nil at \(file):\(line)") }
    return value
}
