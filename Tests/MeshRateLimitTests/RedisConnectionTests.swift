import Glibc
import MeshRateLimit
import MeshRedis
import MeshSync
import MeshTestSupport
import Testing

/// The client against a server that is not Redis: a malformed reply stream drops the connection.
@Suite struct RedisConnectionTests {
    @Test func aMalformedReplyFailsTheCommandAndDropsTheConnection() throws {
        let (listener, port) = try TestSocket.listen()
        defer { close(listener) }
        let settings = GlobalLimitSettings(
            policy: GCRAPolicy(requestsPerSecond: 1, burst: 1), name: "x", allowOnError: true, maxKeys: 1)
        let replica = try Replica(port: port, settings: settings, timeoutMs: 2000)
        defer { replica.shutdown() }
        let outcome = Locked<String?>(nil)
        replica.loop.execute {
            replica.connection.send(RESPEncoder.command("PING")) { result in outcome.withLock { $0 = "\(result)" } }
        }
        let peer = accept(listener, nil, nil)
        #expect(peer >= 0)
        defer { close(peer) }
        TestSocket.setTimeouts(peer, ms: 5000)
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = try buffer.withUnsafeMutableBytes { try TestSocket.readSome(peer, $0) }
        #expect(String(decoding: buffer[0..<n], as: UTF8.self) == "*1\r\n$4\r\nPING\r\n")
        try TestSocket.writeAll(peer, Array("HTTP/1.1 400 Bad Request\r\n\r\n".utf8))
        let deadline = TestSocket.nowMs() + 5000
        while outcome.withLock({ $0 }) == nil && TestSocket.nowMs() < deadline { usleep(1000) }
        #expect(outcome.withLock { $0 } == "failure(MeshRedis.RedisFailure.protocolError(MeshRateLimit.RESPError.unknownType(72)))")
        #expect(replica.connection.counters.disconnects.load(ordering: .relaxed) == 1)
        #expect(!replica.onLoop { replica.connection.isConnected })
    }

    @Test func nothingListeningMeansRefusedAtOnceAndCountedConnectFailures() throws {
        let port = try TestSocket.freePort()
        let settings = GlobalLimitSettings(
            policy: GCRAPolicy(requestsPerSecond: 1, burst: 1), name: "x", allowOnError: false, maxKeys: 1)
        let replica = try Replica(port: port, settings: settings, waitForConnection: false)
        defer { replica.shutdown() }
        #expect(!replica.onLoop { replica.connection.send(RESPEncoder.command("PING")) { _ in } })
        // The limiter answers on_error (deny) without waiting.
        #expect(replica.run(3) == Array(repeating: .storeError(allowed: false), count: 3))
        let deadline = TestSocket.nowMs() + 5000
        while replica.connection.counters.connectFailures.load(ordering: .relaxed) < 2 && TestSocket.nowMs() < deadline {
            usleep(5000)
        }
        #expect(replica.connection.counters.connectFailures.load(ordering: .relaxed) >= 2)  // retried with back-off
    }
}
