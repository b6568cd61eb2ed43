import Foundation
import Glibc
import MeshTestSupport
import Testing

/// SPEC §11 `scope: "global"` through real gateways sharing a real `redis-server`: the replicas together admit
/// the configured total, a dead store follows `on_error`, and a restarted one is used again.
@Suite(.serialized) struct GlobalRateLimitTests {
    /// A gateway whose `/limited` route allows 10 requests (burst, no refill to speak of) across every replica.
    static func replica(redis: UInt16, onError: String, upstream: TestUpstream) throws -> Testbed {
        try Testbed(upstreams: [:], workers: 2) { ports in
            let document = TestConfig.document(
                port: ports.listener, adminPort: ports.admin,
                routes: [
                    TestConfig.route(
                        "/limited", to: "app",
                        #""name": "limited", "rate_limit": { "key": "header:x-user", "requests_per_second": 0.01, "burst": 10, "scope": "global" }"#)
                ],
                upstreams: ["app": TestConfig.upstream([upstream.port])])
            let store = #"{ "store": { "redis": "127.0.0.1:\#(redis)", "timeout_ms": 200, "on_error": "\#(onError)" } }"#
            return document.replacingOccurrences(
                of: "\"version\": 1,", with: "\"version\": 1,\n  \"rate_limits\": \(store),")
        }
    }

    /// Statuses of `count` requests of `user` sent alternately to `beds` (each on a new connection).
    static func statuses(_ beds: [Testbed], user: String, count: Int) throws -> [Int] {
        try (0..<count).map { i in
            try beds[i % beds.count].request("GET", "/limited/\(i)", headers: "x-user: \(user)\r\n").status
        }
    }

    @Test func twoReplicasShareOneLimitAndADeadStoreIsAllowed() throws {
        try #require(RedisServer.available, "redis-server is installed by .ci/run")
        let redis = try RedisServer()
        let upstream = try TestUpstream(.echo)
        defer { upstream.shutdown() }
        let a = try Self.replica(redis: redis.port, onError: "allow", upstream: upstream)
        let b = try Self.replica(redis: redis.port, onError: "allow", upstream: upstream)
        defer {
            a.stop()
            b.stop()
        }
        // Batch 1 (the burst is small): every admission is a reservation in Redis, so the total is exact.
        let shared = try Self.statuses([a, b], user: "alice", count: 30)
        #expect(shared.filter { $0 == 200 }.count == 10, "\(shared)")
        #expect(shared.filter { $0 == 429 }.count == 20, "\(shared)")
        // The store dies: `on_error: allow` admits a key it knows nothing about (alice stays refused: her
        // denial was learned from the store), and every such decision is counted.
        redis.kill()
        let down = try Self.statuses([a, b], user: "bob", count: 6)
        #expect(down.allSatisfy { $0 == 200 }, "\(down)")
        let metrics = try a.admin("/metrics").bodyText
        let errors = metrics.split(separator: "\n").first { $0.hasPrefix("meshgate_rate_limit_store_errors_total ") }
        #expect(errors.flatMap { Double($0.split(separator: " ")[1]) }.map { $0 >= 1 } == true, "\(metrics)")
        // A new store (empty: the buckets are full again) is picked up once the gateways reconnect.
        try redis.restart()
        var again: [Int] = []
        let deadline = TestSocket.nowMs() + 10_000
        while again.filter({ $0 == 429 }).isEmpty && TestSocket.nowMs() < deadline {
            again.append(contentsOf: try Self.statuses([a, b], user: "carol", count: 2))
            usleep(50_000)
        }
        #expect(again.contains(429), "the limit holds again once Redis is back: \(again)")
    }

    @Test func aDeadStoreWithOnErrorDenyRefuses() throws {
        try #require(RedisServer.available, "redis-server is installed by .ci/run")
        let redis = try RedisServer()
        let upstream = try TestUpstream(.echo)
        defer { upstream.shutdown() }
        let bed = try Self.replica(redis: redis.port, onError: "deny", upstream: upstream)
        defer { bed.stop() }
        #expect(try bed.request("GET", "/limited/1", headers: "x-user: dan\r\n").status == 200)
        redis.kill()
        let response = try bed.request("GET", "/limited/2", headers: "x-user: erin\r\n")
        #expect(response.status == 429, "\(response)")
        #expect(response.header("retry-after") == "1")
    }

    @Test func aHungStoreAnswersWithinItsTimeout() throws {
        try #require(RedisServer.available, "redis-server is installed by .ci/run")
        let redis = try RedisServer()
        let upstream = try TestUpstream(.echo)
        defer { upstream.shutdown() }
        let bed = try Self.replica(redis: redis.port, onError: "allow", upstream: upstream)
        defer {
            redis.resume()
            bed.stop()
        }
        #expect(try bed.request("GET", "/limited/1").status == 200)
        redis.stop()  // SIGSTOP: connected, never answers
        let started = TestSocket.nowMs()
        // The reserve prefetched before the stop runs out after a request or two; then a reservation hangs.
        for i in 2..<5 { #expect(try bed.request("GET", "/limited/\(i)").status == 200) }
        // timeout_ms is 200: the parked request is released by the store's timeout, not by the client's.
        #expect(TestSocket.nowMs() - started < 2500)
        // Other routes never wait for the store.
        #expect(try bed.request("GET", "/other").status == 404)
    }
}
