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

    @Test func requestsCarryJoseJSONWhenTheyHaveABody() {
        let post = ACMEWire.headers(ACMERequest(method: "POST", url: "", body: Array("{}".utf8)))
        #expect(post.map(\.name) == ["User-Agent", "Accept", "Content-Type"])
        #expect(post.last?.value == "application/jose+json")
        // Host, Content-Length and `Connection: close` are the blocking client's (MeshBlockingHTTPTests); the
        // response framing cases that were here are its ResponseReaderTests.
        #expect(!ACMEWire.headers(ACMERequest(method: "HEAD", url: "")).contains { $0.name == "Content-Type" })
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
