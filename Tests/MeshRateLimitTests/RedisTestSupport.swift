import Glibc
import MeshEventLoop
import MeshPosix
import MeshRateLimit
import MeshRedis
import MeshSync
import MeshTestSupport

/// One "replica": an event loop on its own thread with a Redis connection and a global limiter, like a worker.
/// Everything but `onLoop` and `shutdown` runs on the loop's thread.
final class Replica: @unchecked Sendable {
    let loop: EventLoop
    private var thread = pthread_t()
    var connection: RedisConnection!
    let limiter: GlobalRateLimiter
    /// Requests parked on `.wait`, re-checked when a reservation for their key completes.
    private var parked: [@Sendable (GlobalRateLimiter.Verdict) -> Void] = []
    let key = Array("alice".utf8)

    init(port: UInt16, settings: GlobalLimitSettings, timeoutMs: Int64 = 50, waitForConnection: Bool = true) throws {
        loop = try EventLoop()
        limiter = GlobalRateLimiter(settings: settings)
        var redis = RedisConnection.Settings(address: SocketAddress(numericHost: "127.0.0.1", port: port)!, timeoutMs: timeoutMs)
        redis.backoffMaxMs = 200
        connection = try RedisConnection(loop: loop, settings: redis)
        connection.onUp = { [limiter] in limiter.storeUp() }
        connection.onDown = { [limiter, loop] in limiter.storeDown(now: loop.nowMs * 1_000_000) }
        let box = Unmanaged.passRetained(self).toOpaque()
        pthread_create(
            &thread, nil,
            { raw in
                let replica = Unmanaged<Replica>.fromOpaque(raw!).takeRetainedValue()
                replica.loop.run()
                return nil
            }, box)
        onLoop { self.connection.start() }
        if waitForConnection { waitUntilConnected() }
    }

    /// Polls (bounded) until the connection is up.
    func waitUntilConnected(timeoutMs: Int = 5000) {
        let deadline = TestSocket.nowMs() + timeoutMs
        while !onLoop({ self.connection.isConnected }) && TestSocket.nowMs() < deadline { usleep(2000) }
    }

    /// Runs `body` on the loop's thread and returns its result (fails the test after 10 s).
    func onLoop<T>(_ body: @escaping @Sendable () -> T) -> T {
        let result = Locked<T?>(nil)
        loop.execute { result.withLock { $0 = body() } }
        let deadline = TestSocket.nowMs() + 10_000
        while TestSocket.nowMs() < deadline {
            if let value = result.withLock({ $0 }) { return value }
            usleep(200)
        }
        fatalError("the event loop did not answer within 10 s")
    }

    /// One request through the limiter on the loop; `done` gets the final verdict (never `.wait`).
    func request(_ done: @escaping @Sendable (GlobalRateLimiter.Verdict) -> Void) {
        loop.execute { self.attempt(done) }
    }

    private func attempt(_ done: @escaping @Sendable (GlobalRateLimiter.Verdict) -> Void) {
        let check = key.withUnsafeBytes {
            limiter.check(digest: RateLimitKey.digest(key), keyBytes: $0, now: loop.nowMs * 1_000_000)
        }
        if let fetch = check.fetch {
            let sent = connection.send(fetch.command) { result in
                let now = self.loop.nowMs * 1_000_000
                switch result {
                case .success(let reply): self.limiter.completed(fetch.ticket, reply: reply, now: now)
                case .failure: self.limiter.failed(fetch.ticket, now: now)
                }
                let waiting = self.parked
                self.parked.removeAll()
                for retry in waiting { self.attempt(retry) }
            }
            if !sent {
                // Refused at once (not connected): the limiter now answers on_error; judge the request again.
                limiter.failed(fetch.ticket, now: loop.nowMs * 1_000_000)
                if case .wait = check.verdict { return attempt(done) }
            }
        }
        if case .wait = check.verdict {
            parked.append(done)
        } else {
            done(check.verdict)
        }
    }

    /// Sends `count` requests one after another (each after the previous got its verdict); returns the verdicts.
    func run(_ count: Int) -> [GlobalRateLimiter.Verdict] {
        let verdicts = Locked<[GlobalRateLimiter.Verdict]>([])
        for _ in 0..<count {
            let before = verdicts.withLock { $0.count }
            request { verdict in verdicts.withLock { $0.append(verdict) } }
            let deadline = TestSocket.nowMs() + 10_000
            while verdicts.withLock({ $0.count }) == before && TestSocket.nowMs() < deadline { usleep(100) }
        }
        return verdicts.withLock { $0 }
    }

    func shutdown() {
        onLoop { self.connection.close() }
        loop.stop()
        pthread_join(thread, nil)
    }
}
