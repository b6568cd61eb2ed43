import MeshTestSupport
import Testing

/// SPEC §4: bodies are streamed in both directions, never buffered whole. 256 MiB through a gateway whose peak
/// RSS stays under 64 MiB proves it; the bodies are generated on the fly on both ends (`PatternBody`).
@Suite struct StreamingTests {
    static let size = 256 << 20
    static let peakLimitKiB = 64 * 1024
    static let limits = "{ \"max_body_bytes\": \(size * 2) }"

    @Test(arguments: [false, true])
    func hugeRequestBodyIsStreamedToTheUpstream(chunked: Bool) throws {
        let rig = try Rig(.fixed(UpstreamReply(status: 200, body: "stored")), limits: Self.limits)
        let client = try rig.client(timeoutMs: 20_000)
        let framing = chunked ? "Transfer-Encoding: chunked" : "Content-Length: \(Self.size)"
        try client.send("POST /upload HTTP/1.1\r\nHost: test.local\r\n\(framing)\r\n\r\n")
        try client.sendPattern(bytes: Self.size, chunked: chunked)
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.bodyText == "stored")
        let received = try #require(rig.upstream.requests.first)
        #expect(received.bodyCount == Self.size)
        #expect(received.bodyMatchesPattern, "body bytes arrived altered or out of order")
        let peak = try #require(rig.gateway.peakRSSKiB)
        #expect(peak < Self.peakLimitKiB, "gateway peak RSS \(peak) KiB")
        rig.expectCleanStop()
    }

    @Test(arguments: [false, true])
    func hugeResponseBodyIsStreamedToTheClient(chunked: Bool) throws {
        // SPEC §3: timeout_ms covers the whole response; a route that streams big downloads sets a larger one.
        let rig = try Rig(.stream(bytes: Self.size, chunked: chunked), route: "\"timeout_ms\": 120000")
        let client = try rig.client(timeoutMs: 20_000)
        let response = try client.request("GET /download HTTP/1.1\r\nHost: test.local\r\n\r\n")
        #expect(response.status == 200)
        #expect(response.bodyCount == Self.size)
        #expect(response.bodyMatchesPattern, "body bytes arrived altered or out of order")
        let peak = try #require(rig.gateway.peakRSSKiB)
        #expect(peak < Self.peakLimitKiB, "gateway peak RSS \(peak) KiB")
        rig.expectCleanStop()
    }
}
