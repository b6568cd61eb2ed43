import MeshTestSupport
import Testing

/// SPEC §4 strict framing (RFC 9112): every ambiguous request is a 400, the connection is closed, and nothing
/// reaches the upstream.
@Suite struct SmugglingTests {
    /// One smuggling vector as sent over the wire.
    struct Vector: CustomTestStringConvertible, Sendable {
        let name: String
        let bytes: String
        /// When the error sits in the body, the head may already have gone upstream (SPEC §4 allows aborting
        /// the upstream connection then); what must never arrive is a complete request.
        var headMayReachUpstream = false
        var testDescription: String { name }
    }

    static let vectors: [Vector] = [
        // RFC 9112 §6.1: a message with both must be treated as an error by a proxy.
        Vector(name: "CL+TE",
            bytes: "POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX"),
        // RFC 9112 §6.3 item 5: differing Content-Lengths are unrecoverable.
        Vector(name: "two Content-Lengths",
            bytes: "POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
        Vector(name: "CL list", bytes: "POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!"),
        Vector(name: "CL with sign", bytes: "POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello"),
        // RFC 9112 §6.3 item 4: chunked must be the final coding.
        Vector(name: "TE chunked, identity",
            bytes: "POST /s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n"
                + "\r\n5\r\nhello\r\n0\r\n\r\n"),
        Vector(name: "TE identity", bytes: "POST /s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\nhello"),
        // RFC 9112 §5.2: obs-fold is rejected by a proxy.
        Vector(name: "obs-fold", bytes: "GET /s HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n"),
        // RFC 9112 §5.1: no whitespace between field name and colon.
        Vector(name: "space before colon",
            bytes: "POST /s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\nhello"),
        // RFC 9112 §2.2: a bare CR is invalid.
        Vector(name: "bare CR", bytes: "GET /s HTTP/1.1\r\nHost: x\r\nX-A: a\rX-B: b\r\n\r\n"),
        Vector(name: "bare LF", bytes: "GET /s HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n"),
        // RFC 9110 §5.5: NUL is never valid in a field value.
        Vector(name: "NUL in header", bytes: "GET /s HTTP/1.1\r\nHost: x\r\nX-A: a\u{0}b\r\n\r\n"),
        // RFC 9112 §3.2: a 1.1 request with no Host, or more than one, MUST get a 400.
        Vector(name: "no Host in 1.1", bytes: "GET /s HTTP/1.1\r\nX-A: b\r\n\r\n"),
        Vector(name: "two Hosts", bytes: "GET /s HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n"),
        // RFC 9112 §7.1: chunk-size is 1*HEXDIG.
        Vector(name: "bad chunk size",
            bytes: "POST /s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
            headMayReachUpstream: true),
        Vector(name: "overflowing chunk size",
            bytes: "POST /s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                + "\r\nfffffffffffffffff1\r\nhello\r\n0\r\n\r\n",
            headMayReachUpstream: true),
    ]

    /// Responses an upstream must never get through: the gateway answers 502 instead (SPEC §4 error table).
    static let badResponses: [String] = [
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
        "SMTP ready\r\n\r\n",
    ]

    @Test(arguments: badResponses)
    func malformedUpstreamResponseIs502(raw: String) throws {
        let rig = try Rig(.raw(Array(raw.utf8)), route: "\"retry\": { \"retries\": 0 }")
        expectGatewayError(try rig.get("/x"), 502, "bad_gateway")
        rig.expectCleanStop()
    }

    @Test(arguments: vectors)
    func ambiguousRequestIs400AndNeverForwarded(vector: Vector) throws {
        let rig = try Rig(.echo)
        let client = try rig.client()
        let response = try client.request(vector.bytes, method: "GET")
        expectGatewayError(response, 400, "bad_request")
        #expect(client.serverClosed(), "connection left open after a framing error")
        if vector.headMayReachUpstream {
            #expect(rig.upstream.requests.isEmpty, "upstream got a complete request: \(rig.upstream.requests)")
        } else {
            #expect(rig.upstream.bytesReceived == 0, "upstream received \(rig.upstream.bytesReceived) bytes")
        }
        // A good request afterwards still works, and is the only one the upstream ever completed.
        #expect(try rig.get("/good").status == 200)
        #expect(rig.upstream.requests.map(\.target) == ["/good"])
        rig.expectCleanStop()
    }
}

