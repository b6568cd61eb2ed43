import Glibc
import MeshEventLoop
import MeshControl
import MeshGateway
import Testing

@Suite("LoopTimers")
struct LoopTimersTests {
    @Test func runsDueActionsInDeadlineOrderAndSkipsCancelledOnes() throws {
        let loop = try EventLoop()
        let timers = try LoopTimers(loop: loop)
        let fired = Shared<[String]>([])
        // Scheduled before the loop runs, from this thread (allowed before `run`).
        timers.schedule(afterMs: 30) { fired.value.append("late") }
        timers.schedule(afterMs: 0) { fired.value.append("now") }
        let cancelled = timers.schedule(afterMs: 10) { fired.value.append("cancelled") }
        // An action may cancel another one, even one due in the same batch (the coarse clock makes 5 and 6 ms
        // land in one batch on most runs; the outcome must be the same either way).
        let victim = Shared<LoopTimers.ID?>(nil)
        timers.schedule(afterMs: 5) { [unowned timers] in
            fired.value.append("canceller")
            timers.cancel(victim.value)
        }
        victim.value = timers.schedule(afterMs: 6) { fired.value.append("victim") }
        timers.cancel(cancelled)
        #expect(timers.pending == 4)
        timers.schedule(afterMs: 40) {
            fired.value.append("stop"); loop.stop()
        }

        let thread = LoopThread(loop)
        thread.join()
        #expect(fired.value == ["now", "canceller", "late", "stop"])
        #expect(timers.pending == 0)
        timers.close()
    }
}

/// Runs `loop.run()` on a thread until the loop stops.
final class LoopThread: @unchecked Sendable {
    private var thread = pthread_t()
    private let loop: EventLoop

    init(_ loop: EventLoop) {
        self.loop = loop
        let unmanaged = Unmanaged.passRetained(self)
        pthread_create(
            &thread,
            nil,
            { arg in
                Unmanaged<LoopThread>.fromOpaque(arg!).takeRetainedValue().loop.run()
                return nil
            },
            unmanaged.toOpaque()
        )
    }

    func join() { pthread_join(thread, nil) }
}
