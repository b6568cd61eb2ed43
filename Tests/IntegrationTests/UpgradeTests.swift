import MeshTestSupport
import Testing

/// SPEC §4: `Connection: Upgrade` (e.g. WebSocket) is tunnelled after the upstream's 101.
@Suite struct UpgradeTests {
    @Test func webSocketUpgradeIsTunnelledBothWays() throws {
        let rig = try Rig(.upgrade)
        let client = try rig.client()
        let response = try client.request(
            "GET /ws HTTP/1.1\r\nHost: test.local\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        #expect(response.status == 101)
        #expect(response.header("upgrade")?.lowercased() == "websocket")
        let received = try #require(rig.upstream.requests.first)
        #expect(received.head.header("upgrade")?.lowercased() == "websocket")
        #expect(received.head.header("connection")?.lowercased().contains("upgrade") == true)
        #expect(received.head.header("sec-websocket-key") == "dGhlIHNhbXBsZSBub25jZQ==")
        // Arbitrary binary frames, including bytes that look like HTTP, must come back unchanged.
        for message in [[0x81, 0x05] + Array("hello".utf8), Array("GET / HTTP/1.1\r\n\r\n".utf8) + [0, 255, 13]] {
            try client.send(message)
            var echoed: [UInt8] = []
            while echoed.count < message.count {
                let bytes = try client.readAvailable()
                if bytes.isEmpty { break }
                echoed += bytes
            }
            #expect(echoed == message)
        }
        client.close()
        // The upstream answers 101 to everything; only a request that asked to upgrade may get it (SPEC §4).
        let after = try rig.get("/after", headers: "Connection: Upgrade\r\nUpgrade: websocket\r\n")
        #expect(after.status == 101, "gateway stopped serving after a tunnel closed")
        expectGatewayError(try rig.get("/plain"), 502, "bad_gateway")
        rig.expectCleanStop()
    }

    @Test func upgradeDeclinedByTheUpstreamStaysHTTP() throws {
        let rig = try Rig(.fixed(UpstreamReply(body: "plain")))
        let client = try rig.client()
        let response = try client.request(
            "GET /ws HTTP/1.1\r\nHost: test.local\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
        #expect(response.status == 200)
        #expect(response.bodyText == "plain")
        // No tunnel was opened: the connection still speaks HTTP.
        #expect(try client.request("GET /again HTTP/1.1\r\nHost: test.local\r\n\r\n").bodyText == "plain")
        rig.expectCleanStop()
    }
}
