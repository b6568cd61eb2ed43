import CLinux
import Glibc
import MeshPosix
import MeshSync
import Synchronization

/// Something registered with an event loop: a listener, a client connection, an upstream connection.
///
/// Called only on the loop's own thread.
public protocol EventHandler: AnyObject {
    /// Readiness changed (edge-triggered: keep reading or writing until the kernel says "would block").
    func handleEvents(_ events: IOEvents)
    /// A deadline this handler scheduled has passed (it may since have moved: check and re-arm).
    func handleTimer(nowMs: Int64)
}

/// Identifies one registration of one descriptor. The id changes every time a descriptor number is reused.
public struct Registration: Sendable, Equatable {
    public let fd: Int32
    public let id: UInt32

    public init(fd: Int32, id: UInt32) {
        self.fd = fd
        self.id = id
    }

    /// No registration yet (id 0 is never handed out).
    public static let none = Registration(fd: -1, id: 0)
}

/// One epoll loop, run by one worker thread (SPEC §2: "each worker is a thread with its own epoll loop").
///
/// Everything except `execute(_:)` and `stop()` must be called on the loop's thread. Handlers are found by
/// descriptor number in a flat array (no dictionary on the hot path) and checked against the registration id.
/// The clock is read once per iteration (`nowMs`, CLOCK_MONOTONIC_COARSE, a vDSO read), never per request.
public final class EventLoop: @unchecked Sendable {
    private struct Slot {
        var id: UInt32 = 0
        var handler: (any EventHandler)?
    }

    private let selector: Selector
    private var slots: [Slot]
    /// Registrations without a descriptor (`registerVirtual`), at `-1 - fd`; freed indexes are reused.
    private var virtualSlots: [Slot] = []
    private var freeVirtual: [Int] = []
    /// Readiness posted to registrations on this thread, delivered after the handler that posted it returns.
    private var posted: [(Registration, IOEvents)] = []
    private var delivering: [(Registration, IOEvents)] = []
    private var nextID: UInt32 = 1
    private var timers = TimerHeap()
    private let wakeFD: Int32
    // Tasks from other threads; the only lock in the loop, taken when a task is posted, never per request.
    private let inbox = Locked<[@Sendable () -> Void]>([])
    private let stopRequested = Atomic<Bool>(false)

    /// The loop's clock in milliseconds (monotonic, coarse), updated once per iteration.
    public private(set) var nowMs: Int64

    public init() throws(SystemError) {
        selector = try Selector()
        let fd = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        if fd < 0 { throw SystemError(errno: Glibc.errno, call: "eventfd") }
        wakeFD = fd
        slots = Array(repeating: Slot(), count: 1024)
        nowMs = clinux_monotonic_coarse_ms()
        try selector.add(fd: wakeFD, id: 0, interest: [.readable, .edgeTriggered])
    }

    deinit { Posix.close(wakeFD) }

    // MARK: - Registration

    /// Registers `fd` once for edge-triggered readiness; the returned registration identifies it from now on.
    public func register(fd: Int32, interest: IOEvents = .all, handler: any EventHandler) throws(SystemError)
        -> Registration
    {
        let index = Int(fd)
        if index >= slots.count {
            slots.append(contentsOf: repeatElement(Slot(), count: max(index + 1 - slots.count, slots.count)))
        }
        nextID = nextID == UInt32.max ? 1 : nextID + 1
        try selector.add(fd: fd, id: nextID, interest: interest)
        slots[index] = Slot(id: nextID, handler: handler)
        return Registration(fd: fd, id: nextID)
    }

    public func modify(_ registration: Registration, interest: IOEvents) throws(SystemError) {
        try selector.modify(fd: registration.fd, id: registration.id, interest: interest)
    }

    /// A registration without a descriptor, for handlers that talk to each other in memory on this thread (an
    /// HTTP/2 stream and the connection serving it): timers work as for any registration, and readiness comes
    /// only from `post`. Its `fd` is negative; `close` forgets it.
    public func registerVirtual(handler: any EventHandler) -> Registration {
        let index: Int
        if let free = freeVirtual.popLast() {
            index = free
        } else {
            index = virtualSlots.count
            virtualSlots.append(Slot())
        }
        nextID = nextID == UInt32.max ? 1 : nextID + 1
        virtualSlots[index] = Slot(id: nextID, handler: handler)
        return Registration(fd: -1 - Int32(index), id: nextID)
    }

    /// Delivers `events` to `registration`'s handler after the current handler returns (never inside it, so two
    /// handlers that notify each other never recurse) — after the rest of the current batch of epoll events, in
    /// the order posted — and before the loop waits again. Nothing happens if the registration is closed by then.
    public func post(_ registration: Registration, _ events: IOEvents) {
        posted.append((registration, events))
    }

    /// The handler registered as `registration`, if it still is.
    @inline(__always)
    private func handler(fd: Int32, id: UInt32) -> (any EventHandler)? {
        if fd >= 0 {
            let index = Int(fd)
            return index < slots.count && slots[index].id == id ? slots[index].handler : nil
        }
        let index = Int(-1 - fd)
        return index < virtualSlots.count && virtualSlots[index].id == id ? virtualSlots[index].handler : nil
    }

    /// Forgets the handler and closes the descriptor (closing removes it from the epoll set).
    public func close(_ registration: Registration) {
        if registration.fd < 0 { return forgetVirtual(registration) }
        let index = Int(registration.fd)
        if index < slots.count, slots[index].id == registration.id { slots[index] = Slot() }
        Posix.close(registration.fd)
    }

    /// Forgets the handler and removes the descriptor from the epoll set without closing it.
    public func deregister(_ registration: Registration) {
        if registration.fd < 0 { return forgetVirtual(registration) }
        let index = Int(registration.fd)
        if index < slots.count, slots[index].id == registration.id { slots[index] = Slot() }
        selector.remove(fd: registration.fd)
    }

    private func forgetVirtual(_ registration: Registration) {
        let index = Int(-1 - registration.fd)
        guard index < virtualSlots.count, virtualSlots[index].id == registration.id else { return }
        virtualSlots[index] = Slot()
        freeVirtual.append(index)
    }

    /// Calls the registration's `handleTimer` at (or soon after) `deadlineMs`.
    public func schedule(_ registration: Registration, atMs deadlineMs: Int64) {
        timers.push(.init(deadlineMs: deadlineMs, fd: registration.fd, registrationID: registration.id))
    }

    // MARK: - Cross-thread

    /// Runs `task` on the loop's thread soon. Safe from any thread.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        inbox.withLock { $0.append(task) }
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    /// Asks the loop to return from `run()` after the current iteration. Safe from any thread.
    public func stop() {
        stopRequested.store(true, ordering: .releasing)
        execute {}
    }

    // MARK: - Running

    /// Runs until `stop()`.
    public func run() {
        while !stopRequested.load(ordering: .acquiring) {
            let count = selector.wait(timeoutMs: waitTimeout())
            nowMs = clinux_monotonic_coarse_ms()
            for i in 0..<count {
                let (fd, id, events) = selector.event(at: i)
                if id == 0 && fd == wakeFD {
                    drainInbox()
                    continue
                }
                let index = Int(fd)
                guard index < slots.count, slots[index].id == id, let handler = slots[index].handler else { continue }
                handler.handleEvents(events)
            }
            // After the whole batch: what its handlers posted (a stream's answer, output to write) coalesces.
            deliverPosted()
            fireTimers()
            deliverPosted()
        }
    }

    /// Runs posted readiness until none is left (handlers may post more while it runs).
    private func deliverPosted() {
        while !posted.isEmpty {
            // Swapped, not copied: no allocation per batch once both arrays have grown.
            swap(&posted, &delivering)
            // By index: a for-in took the array (a reference counted up and down per batch); handlers post
            // into `posted`, never into `delivering`, so the count holds.
            var i = 0
            while i < delivering.count {
                let (registration, events) = delivering[i]
                i += 1
                handler(fd: registration.fd, id: registration.id)?.handleEvents(events)
            }
            delivering.removeAll(keepingCapacity: true)
        }
    }

    private func waitTimeout() -> Int32 {
        guard let next = timers.nextDeadline else { return -1 }
        let delta = next - nowMs
        // The coarse clock ticks every few ms; never spin at 0 waiting for it.
        return delta <= 0 ? 0 : Int32(clamping: delta + 1)
    }

    private func fireTimers() {
        while let entry = timers.popDue(nowMs: nowMs) {
            handler(fd: entry.fd, id: entry.registrationID)?.handleTimer(nowMs: nowMs)
            deliverPosted()
        }
    }

    private func drainInbox() {
        var counter: UInt64 = 0
        _ = Glibc.read(wakeFD, &counter, 8)
        let tasks = inbox.withLock { tasks in
            let taken = tasks
            tasks.removeAll(keepingCapacity: true)
            return taken
        }
        for task in tasks {
            task()
            deliverPosted()
        }
    }
}
