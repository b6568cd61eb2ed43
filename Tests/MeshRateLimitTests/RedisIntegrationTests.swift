import Glibc
import MeshRateLimit
import MeshRedis
import MeshSync
import MeshTestSupport
import Testing

/// Against a real `redis-server` (Debian package `redis-server`; `.ci/run` installs it).
@Suite(.serialized, .enabled(if: RedisServer.available, "redis-server is not installed"))
struct RedisIntegrationTests {
    func settings(rate: Double = 1, burst: Int = 20, batch: Int = 4, allow: Bool = true) -> GlobalLimitSettings {
        GlobalLimitSettings(
            policy: GCRAPolicy(requestsPerSecond: rate, burst: burst), name: "it-\(getpid())-\(burst)-\(batch)",
            allowOnError: allow, maxKeys: 1000, batch: batch)
    }

    func allowed(_ verdicts: [GlobalRateLimiter.Verdict]) -> Int {
        verdicts.filter { if case .allowed = $0 { return true } else { return false } }.count
    }

    @Test func theClientSpeaksRESPAndPipelines() throws {
        let redis = try RedisServer()
        let replica = try Replica(port: redis.port, settings: settings())
        defer { replica.shutdown() }
        let replies = Locked<[String]>([])
        replica.loop.execute {
            for i in 0..<3 {
                replica.connection.send(RESPEncoder.command("INCRBY", "pipelined", "\(i + 1)")) { result in
                    replies.withLock { $0.append("\(result)") }
                }
            }
        }
        let deadline = TestSocket.nowMs() + 5000
        while replies.withLock({ $0.count }) < 3 && TestSocket.nowMs() < deadline { usleep(1000) }
        #expect(replies.withLock { $0 } == ["success(MeshRateLimit.RESPValue.integer(1))",
            "success(MeshRateLimit.RESPValue.integer(3))", "success(MeshRateLimit.RESPValue.integer(6))"])
        #expect(replica.connection.counters.commands.load(ordering: .relaxed) == 3)
    }

    /// Two replicas share one limit of burst 20 at 1 rps: together they admit 20 (+ the refill during the run),
    /// never the 40 two independent limits would.
    @Test func twoReplicasShareOneLimit() throws {
        let redis = try RedisServer()
        let shared = settings(rate: 1, burst: 20, batch: 4)
        let a = try Replica(port: redis.port, settings: shared)
        let b = try Replica(port: redis.port, settings: shared)
        defer {
            a.shutdown()
            b.shutdown()
        }
        let start = TestSocket.nowMs()
        var verdicts: [GlobalRateLimiter.Verdict] = []
        for _ in 0..<10 { verdicts += a.run(3) + b.run(3) }
        let total = allowed(verdicts)
        // Redis's refusals come back as 429s with a retry-after of about one emission interval (1 s).
        let denials = verdicts.compactMap { verdict -> RateLimitDecision? in
            if case .denied(let decision) = verdict { return decision }
            return nil
        }
        #expect(denials.count == 60 - total)
        #expect(denials.allSatisfy { $0.retryAfterSeconds == 1 })
        let seconds = (TestSocket.nowMs() - start) / 1000 + 1
        // Redis grants at most burst + rate · elapsed; a replica admits only what was granted.
        #expect(total <= 20 + seconds)
        // Unspent reservations (at most 1.5 batches per replica) are the only shortfall.
        #expect(total >= 20 - 2 * 6)
    }

    /// Redis killed mid-run: requests follow on_error at once (no waiting); restarted: picked up again.
    @Test(arguments: [true, false])
    func aDeadRedisFollowsOnErrorAndARestartedOneIsPickedUp(allow: Bool) throws {
        let redis = try RedisServer()
        let replica = try Replica(port: redis.port, settings: settings(rate: 1000, burst: 1000, batch: 2, allow: allow))
        defer { replica.shutdown() }
        #expect(allowed(replica.run(5)) == 5)
        redis.kill()
        let during = replica.run(20)
        #expect(during.contains(.storeError(allowed: allow)))
        #expect(during.allSatisfy { if case .allowed = $0 { return true }; return $0 == .storeError(allowed: allow) })
        #expect(replica.connection.counters.disconnects.load(ordering: .relaxed) == 1)
        try redis.restart()
        // Reconnects within the back-off (≤ 200 ms here) and admits through Redis again.
        replica.waitUntilConnected()
        #expect(replica.onLoop { replica.connection.isConnected })
        let back = replica.run(10)
        #expect(back.suffix(5).allSatisfy { if case .allowed = $0 { return true }; return false })
    }

    /// A hung Redis (SIGSTOP): the command fails after timeout_ms, and the loop keeps serving meanwhile.
    @Test func aHungRedisTimesOutWithoutStallingTheLoop() throws {
        let redis = try RedisServer()
        let replica = try Replica(port: redis.port, settings: settings(), timeoutMs: 100)
        defer { replica.shutdown() }
        _ = replica.run(1)
        #expect(replica.onLoop { replica.connection.isConnected })
        redis.stop()
        defer { redis.resume() }
        let outcome = Locked<String?>(nil)
        let sentAt = TestSocket.nowMs()
        replica.loop.execute {
            let sent = replica.connection.send(RESPEncoder.command("PING")) { result in
                outcome.withLock { $0 = "\(result)" }
            }
            if !sent { outcome.withLock { $0 = "refused" } }
        }
        // While the command hangs, the loop runs other tasks promptly: 20 round trips through it.
        var slowest = 0
        for _ in 0..<20 {
            let before = TestSocket.nowMs()
            _ = replica.onLoop { 1 }
            slowest = max(slowest, TestSocket.nowMs() - before)
        }
        let deadline = TestSocket.nowMs() + 5000
        while outcome.withLock({ $0 }) == nil && TestSocket.nowMs() < deadline { usleep(1000) }
        let waited = TestSocket.nowMs() - sentAt
        #expect(outcome.withLock { $0 } == "failure(MeshRedis.RedisFailure.timeout)")
        #expect(waited >= 90 && waited < 2000, "timed out after \(waited) ms")
        #expect(slowest < 50, "a loop round trip took \(slowest) ms while Redis hung")
        #expect(replica.connection.counters.timeouts.load(ordering: .relaxed) == 1)
        redis.resume()
        // Resumed: the reconnect goes through and commands succeed again.
        let end = TestSocket.nowMs() + 5000
        var ok = false
        while !ok && TestSocket.nowMs() < end {
            let done = Locked<Bool?>(nil)
            replica.loop.execute {
                let sent = replica.connection.send(RESPEncoder.command("PING")) { result in
                    done.withLock { $0 = (try? result.get()) == .simpleString("PONG") }
                }
                if !sent { done.withLock { $0 = false } }
            }
            while done.withLock({ $0 }) == nil { usleep(1000) }
            ok = done.withLock { $0 } ?? false
            if !ok { usleep(20_000) }
        }
        #expect(ok)
    }
}

extension RedisIntegrationTests {
    /// The local fast path: one EVAL per batch, so Redis commands per request ≈ 1 / batch.
    @Test func oneRedisCommandPerBatch() throws {
        let redis = try RedisServer()
        let replica = try Replica(port: redis.port, settings: settings(rate: 10_000, burst: 10_000, batch: 100))
        defer { replica.shutdown() }
        let verdicts = replica.run(2000)
        #expect(allowed(verdicts) == 2000)
        let commands = replica.connection.counters.commands.load(ordering: .relaxed)
        #expect(commands >= 20 && commands <= 22, "\(commands) commands for 2000 requests")
    }
}
