import Glibc
import MeshTestSupport
import Testing

/// The gateway survives garbage and clients or upstreams that vanish mid-exchange, and keeps serving.
@Suite struct RobustnessTests {
    static let template = Array(
        "POST /fuzz/path?q=1 HTTP/1.1\r\nHost: test.local\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello".utf8)

    /// Half the cases are random bytes, half a valid request with a few bytes mutated, truncated or duplicated.
    static func garbage(_ rng: inout SplitMix64) -> [UInt8] {
        if Bool.random(using: &rng) {
            return (0..<Int.random(in: 1...600, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        }
        var bytes = template
        for _ in 0..<Int.random(in: 1...6, using: &rng) {
            let index = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: bytes[index] = UInt8.random(in: 0...255, using: &rng)
            case 1: bytes.remove(at: index)
            case 2: bytes.insert(contentsOf: bytes[index..<min(bytes.count, index + 8)], at: index)
            default: bytes[index] = [0, 10, 13, 32, 58, 9].randomElement(using: &rng)!
            }
            if bytes.isEmpty { bytes = [0] }
        }
        return bytes
    }

    @Test func randomGarbageNeverCrashesTheGateway() throws {
        let rig = try Rig(.echo, limits: "{ \"header_timeout_ms\": 1000 }")
        var rng = SplitMix64(state: 0x6D65_7368_6761_7465)
        // Batches of concurrent connections, so incomplete heads wait out one header timeout per batch.
        for _ in 0..<4 {
            var clients: [RawClient] = []
            for _ in 0..<50 {
                let client = try rig.client(timeoutMs: 4000)
                try? client.send(Self.garbage(&rng))
                client.shutdownWrite()
                clients.append(client)
            }
            for client in clients {
                _ = try? client.reader.readToEnd { _ in }
                client.close()
            }
            #expect(rig.gateway.isRunning, "gateway died:\n\(rig.gateway.stdout.suffix(3000))")
        }
        #expect(try rig.get("/after-fuzz").status == 200)
        rig.expectCleanStop()
    }

    @Test func halfClosedClientStillGetsItsResponse() throws {
        // RFC 9112 §9.6 leaves half-close to the peer; nginx and HAProxy answer it (e.g. `nc -N` clients).
        let rig = try Rig(.fixed(UpstreamReply(body: "answered")))
        let client = try rig.client()
        try client.send("GET /half HTTP/1.1\r\nHost: test.local\r\n\r\n")
        client.shutdownWrite()
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.bodyText == "answered")
        rig.expectCleanStop()
    }

    @Test func clientsVanishingMidRequestLeaveItServing() throws {
        let rig = try Rig(.echo)
        let partialHead = try rig.client()
        try partialHead.send("GET /half HTTP/1.1\r\nHost: te")
        partialHead.close()
        let resetHead = try rig.client()
        try resetHead.send("GET /half HTTP/1.1\r\nHost: te")
        resetHead.reset()
        let partialBody = try rig.client()
        try partialBody.send("POST /body HTTP/1.1\r\nHost: test.local\r\nContent-Length: 100000\r\n\r\n0123456789")
        partialBody.close()
        let resetBody = try rig.client()
        try resetBody.send("POST /body HTTP/1.1\r\nHost: test.local\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")
        resetBody.reset()
        #expect(try rig.get("/still-there").status == 200)
        rig.expectCleanStop()
    }

    @Test func clientsVanishingMidResponseLeaveItServing() throws {
        let rig = try Rig(
            upstreams: ["big": .stream(bytes: 32 << 20, chunked: false), "app": .echo],
            routes: [TestConfig.route("/big", to: "big"), TestConfig.route("/", to: "app")])
        for abrupt in [false, true] {
            let client = try rig.client()
            try client.send("GET /big HTTP/1.1\r\nHost: test.local\r\n\r\n")
            _ = try client.reader.readHead()
            _ = try client.readAvailable()
            if abrupt { client.reset() } else { client.close() }
        }
        #expect(try rig.get("/still-there").status == 200)
        #expect(try rig.get("/big").bodyCount == 32 << 20)
        rig.expectCleanStop()
    }

    @Test func upstreamResetMidBodyClosesTheClientAndKeepsServing() throws {
        let partial = Array("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789".utf8)
        let rig = try Rig(
            upstreams: ["broken": .reset(partial: partial), "app": .echo],
            routes: [TestConfig.route("/broken", to: "broken"), TestConfig.route("/", to: "app")])
        let client = try rig.client()
        try client.send("GET /broken HTTP/1.1\r\nHost: test.local\r\n\r\n")
        // The head went out before the reset, so the only honest signal left is closing the connection.
        #expect(throws: TestSupportError.self) { try client.readResponse() }
        #expect(try rig.get("/still-there").status == 200)
        rig.expectCleanStop()
    }
}
