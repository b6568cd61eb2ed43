import Glibc
import MeshEventLoop
import MeshPosix
import MeshSync
import Testing

/// Counts what the loop delivers to it.
final class Probe: EventHandler, @unchecked Sendable {
    let events = Locked<Int>(0)
    let timers = Locked<Int>(0)
    func handleEvents(_ events: IOEvents) { self.events.withLock { $0 += 1 } }
    func handleTimer(nowMs: Int64) { timers.withLock { $0 += 1 } }
}

@Suite struct EventLoopTests {
    func pair() throws -> (Int32, Int32) { try Self.pairNow() }

    static func pairNow() throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        guard
            socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0, &fds)
                == 0
        else { throw SystemError(errno: errno, call: "socketpair") }
        return (fds[0], fds[1])
    }

    func waitUntil(_ condition: () -> Bool) -> Bool {
        for _ in 0..<500 {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    /// Readiness reaches the handler; after `close`, a descriptor number reused by a new registration never
    /// delivers to the old handler (registration ids).
    @Test func eventsReachTheCurrentRegistrationOnly() throws {
        let loop = try EventLoop()
        let thread = Thread { loop.run() }
        defer {
            loop.stop()
            thread.join()
        }
        let (first, firstPeer) = try pair()
        let old = Probe()
        let fresh = Probe()
        let registered = Locked<Registration?>(nil)
        loop.execute {
            let registration = try? loop.register(fd: first, interest: [.readable, .edgeTriggered], handler: old)
            registered.withLock { $0 = registration }
        }
        #expect(waitUntil { registered.withLock { $0 } != nil })
        _ = write(firstPeer, "x", 1)
        #expect(waitUntil { old.events.withLock { $0 } > 0 })
        let before = old.events.withLock { $0 }
        // Close it and register a new descriptor that takes the same number.
        let reused = Locked<(fd: Int32, peer: Int32)?>(nil)
        loop.execute {
            loop.close(registered.withLock { $0! })
            guard let (fd, peer) = try? Self.pairNow() else { return }
            _ = try? loop.register(fd: fd, interest: [.readable, .edgeTriggered], handler: fresh)
            reused.withLock { $0 = (fd, peer) }
        }
        #expect(waitUntil { reused.withLock { $0 } != nil })
        let (again, againPeer) = try #require(reused.withLock { $0 })
        // Usually the same number as `first` (the kernel hands out the lowest free one); either way the old
        // handler must see nothing more.
        _ = again
        _ = write(againPeer, "y", 1)
        #expect(waitUntil { fresh.events.withLock { $0 } > 0 })
        #expect(old.events.withLock { $0 } == before)
        close(firstPeer)
        close(againPeer)
    }

    /// A scheduled deadline calls the handler's timer on the loop's thread.
    @Test func timersFire() throws {
        let loop = try EventLoop()
        let thread = Thread { loop.run() }
        defer {
            loop.stop()
            thread.join()
        }
        let (fd, peer) = try pair()
        defer { close(peer) }
        let probe = Probe()
        loop.execute {
            if let registration = try? loop.register(fd: fd, handler: probe) {
                loop.schedule(registration, atMs: loop.nowMs + 20)
            }
        }
        #expect(waitUntil { probe.timers.withLock { $0 } == 1 })
    }
}

/// A minimal joinable thread for the tests (Foundation-free).
final class Thread: @unchecked Sendable {
    private var handle = pthread_t()
    private let body: () -> Void

    init(_ body: @escaping () -> Void) {
        self.body = body
        let unmanaged = Unmanaged.passRetained(self)
        pthread_create(
            &handle, nil,
            { arg in
                let this = Unmanaged<Thread>.fromOpaque(arg!).takeRetainedValue()
                this.body()
                return nil
            }, unmanaged.toOpaque())
    }

    func join() { pthread_join(handle, nil) }
}
