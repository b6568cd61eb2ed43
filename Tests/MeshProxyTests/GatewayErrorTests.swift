import MeshHTTP1
import MeshJSON
import MeshProxy
import Testing

@Suite struct GatewayErrorTests {
    static let table: [(GatewayError, Int, String)] = [
        (.badRequest, 400, "bad_request"), (.unauthorized, 401, "unauthorized"), (.forbidden, 403, "forbidden"),
        (.noRoute, 404, "no_route"), (.requestTimeout, 408, "request_timeout"),
        (.payloadTooLarge, 413, "payload_too_large"), (.uriTooLong, 414, "uri_too_long"),
        (.headersTooLarge, 431, "headers_too_large"), (.badGateway, 502, "bad_gateway"),
        (.unavailable, 503, "unavailable"), (.gatewayTimeout, 504, "gateway_timeout"),
    ]

    /// SPEC §4's table, and a body whose content-length is right and which parses as JSON.
    @Test(arguments: table.indices)
    func mapsToSpecAndWritesJSON(_ index: Int) throws {
        let (error, status, code) = Self.table[index]
        #expect(error.status == status)
        #expect("\(error.code)" == code)
        var out = [UInt8](repeating: 0, count: 1024)
        let count = out.withUnsafeMutableBytes { o in
            var w = HeadWriter(o)
            error.writeResponse(
                into: &w, requestID: "abc123", persistence: .close,
                extraHeader: "www-authenticate: Bearer realm=\"meshgate\"")
            return w.count
        }
        let text = String(decoding: out[0..<count], as: UTF8.self)
        let bytes = Array(out[0..<count])
        let split = try #require((0..<(bytes.count - 3)).first { bytes[$0..<($0 + 4)].elementsEqual("\r\n\r\n".utf8) })
        let parts = [
            String(decoding: bytes[..<split], as: UTF8.self), String(decoding: bytes[(split + 4)...], as: UTF8.self),
        ]
        #expect(text.hasPrefix("HTTP/1.1 \(status) "))
        #expect(text.contains("content-length: \(parts[1].utf8.count)\r\n"))
        #expect(text.contains("connection: close\r\n") && text.contains("www-authenticate: Bearer"))
        let body = try JSONReader.parse(Array(parts[1].utf8))
        #expect(body["error"]?.stringValue == code)
        #expect(body["request_id"]?.stringValue == "abc123")
    }

    @Test func parseErrorsMapByStatus() {
        #expect(GatewayError(HTTPParseError.uriTooLong) == .uriTooLong)
        #expect(GatewayError(HTTPParseError.headersTooLarge) == .headersTooLarge)
        #expect(GatewayError(HTTPParseError.tooManyHeaders) == .headersTooLarge)
        #expect(GatewayError(HTTPParseError.contentLengthAndTransferEncoding) == .badRequest)
    }
}
