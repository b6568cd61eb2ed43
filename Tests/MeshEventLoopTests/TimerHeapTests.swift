import MeshEventLoop
import Testing

@Suite struct TimerHeapTests {
    /// Entries come out in deadline order, and only once due.
    @Test func popsDueEntriesInOrder() {
        var heap = TimerHeap()
        var generator = SystemRandomNumberGenerator()
        let deadlines = (0..<500).map { _ in Int64.random(in: 0...10_000, using: &generator) }
        for (i, deadline) in deadlines.enumerated() {
            heap.push(.init(deadlineMs: deadline, fd: Int32(i), registrationID: UInt32(i)))
        }
        #expect(heap.popDue(nowMs: -1) == nil)
        var popped: [Int64] = []
        while let entry = heap.popDue(nowMs: 5_000) { popped.append(entry.deadlineMs) }
        #expect(popped == deadlines.filter { $0 <= 5_000 }.sorted())
        #expect(heap.nextDeadline == deadlines.filter { $0 > 5_000 }.min())
        while heap.popDue(nowMs: .max) != nil {}
        #expect(heap.isEmpty)
    }
}

@Suite struct LazyTimerTests {
    /// A deadline moved later pushes nothing; the early entry fires, sees the new deadline and re-arms once.
    @Test func laterDeadlinesCostNothingAndFireOnce() throws {
        let loop = try EventLoop()
        let registration = Registration(fd: 0, id: 7)
        var timer = LazyTimer()
        timer.set(100, loop: loop, registration: registration)
        timer.set(300, loop: loop, registration: registration)
        // The entry for 100 fires: not yet due (300), so it re-arms.
        let fired1 = timer.fired(nowMs: 100, loop: loop, registration: registration)
        #expect(!fired1)
        // A leftover entry firing while the re-armed one (300) is pending decides nothing.
        let fired2 = timer.fired(nowMs: 200, loop: loop, registration: registration)
        #expect(!fired2)
        let fired3 = timer.fired(nowMs: 300, loop: loop, registration: registration)
        #expect(fired3)
        #expect(timer.deadlineMs == .max)
    }

    /// Moving a deadline earlier arms it; clearing it (`.max`) makes the armed entry a no-op.
    @Test func earlierDeadlinesArmAndClearedOnesDoNotFire() throws {
        let loop = try EventLoop()
        let registration = Registration(fd: 0, id: 7)
        var timer = LazyTimer()
        timer.set(500, loop: loop, registration: registration)
        timer.set(50, loop: loop, registration: registration)
        let fired4 = timer.fired(nowMs: 60, loop: loop, registration: registration)
        #expect(fired4)
        timer.set(80, loop: loop, registration: registration)
        timer.set(.max, loop: loop, registration: registration)
        let fired5 = timer.fired(nowMs: 100, loop: loop, registration: registration)
        #expect(!fired5)
    }
}
