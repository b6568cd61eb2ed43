import Glibc
import MeshEventLoop
import MeshSync
import Testing

/// Two handlers that notify each other in memory (`registerVirtual` + `post`): the StreamPipe between an
/// HTTP/2 stream and the connection serving it relies on exactly these properties.
@Suite struct VirtualRegistrationTests {
    /// Records what it is told; on each event it posts to `peer` until `bounces` run out.
    final class Bouncer: EventHandler, @unchecked Sendable {
        let name: String
        let log: Locked<[String]>
        let depth: Locked<(now: Int, max: Int)>
        unowned(unsafe) var loop: EventLoop?
        var peer = Registration.none
        var bounces = 0
        var timers = 0

        init(_ name: String, log: Locked<[String]>, depth: Locked<(now: Int, max: Int)>) {
            self.name = name
            self.log = log
            self.depth = depth
        }

        func handleEvents(_ events: IOEvents) {
            depth.withLock { $0.now += 1; $0.max = max($0.max, $0.now) }
            log.withLock { $0.append(name + "+") }
            if bounces > 0 {
                bounces -= 1
                loop?.post(peer, .readable)
            }
            log.withLock { $0.append(name + "-") }
            depth.withLock { $0.now -= 1 }
        }

        func handleTimer(nowMs: Int64) {
            timers += 1
            log.withLock { $0.append(name + "@timer") }
        }
    }

    static func running(_ body: (EventLoop) throws -> Void) throws {
        let loop = try EventLoop()
        let thread = Thread { loop.run() }
        defer {
            loop.stop()
            thread.join()
        }
        try body(loop)
    }

    static func waitUntil(_ condition: () -> Bool) -> Bool {
        for _ in 0..<500 {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    /// A post is delivered after the handler that made it returns, never inside it: 1,000 bounces between two
    /// handlers run one after another at depth 1, in order.
    @Test func postsAreDeliveredAfterThePosterReturnsWithoutRecursion() throws {
        try Self.running { loop in
            let log = Locked<[String]>([])
            let depth = Locked((now: 0, max: 0))
            let a = Bouncer("a", log: log, depth: depth)
            let b = Bouncer("b", log: log, depth: depth)
            loop.execute {
                a.loop = loop
                b.loop = loop
                let ra = loop.registerVirtual(handler: a)
                let rb = loop.registerVirtual(handler: b)
                #expect(ra.fd < 0 && rb.fd < 0 && ra != rb)
                a.peer = rb
                b.peer = ra
                a.bounces = 500
                b.bounces = 500
                loop.post(ra, .readable)
            }
            #expect(Self.waitUntil { log.withLock { $0.count } >= 2002 })
            let seen = log.withLock { $0 }
            #expect(seen.count == 2002, "\(seen.count)")
            let expected = (0..<1001).flatMap { i in i % 2 == 0 ? ["a+", "a-"] : ["b+", "b-"] }
            #expect(seen == expected)
            #expect(depth.withLock { $0.max } == 1)
        }
    }

    /// Timers work on a virtual registration; once it is closed neither its timers nor posts reach it, and a
    /// new registration that takes its slot (a new id) is not reached by posts to the old one.
    @Test func closedRegistrationsHearNothingAndTheirSlotIsReused() throws {
        try Self.running { loop in
            let log = Locked<[String]>([])
            let depth = Locked((now: 0, max: 0))
            let first = Bouncer("first", log: log, depth: depth)
            let second = Bouncer("second", log: log, depth: depth)
            let old = Locked<Registration?>(nil)
            loop.execute {
                let registration = loop.registerVirtual(handler: first)
                old.withLock { $0 = registration }
                loop.schedule(registration, atMs: loop.nowMs + 20)
            }
            #expect(Self.waitUntil { log.withLock { $0 } == ["first@timer"] })
            let reused = Locked<Registration?>(nil)
            loop.execute {
                let stale = old.withLock { $0! }
                loop.schedule(stale, atMs: loop.nowMs + 10)
                loop.post(stale, .readable)
                loop.close(stale)
                let registration = loop.registerVirtual(handler: second)
                reused.withLock { $0 = registration }
                loop.post(stale, .readable)
                loop.post(registration, .writable)
            }
            #expect(Self.waitUntil { log.withLock { $0.count } >= 3 })
            usleep(100_000)  // past the stale timer's deadline
            let stale = try #require(old.withLock { $0 })
            let fresh = try #require(reused.withLock { $0 })
            #expect(fresh.fd == stale.fd && fresh.id != stale.id, "the slot is reused with a new id")
            #expect(log.withLock { $0 } == ["first@timer", "second+", "second-"])
        }
    }
}
