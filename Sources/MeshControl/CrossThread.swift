import Glibc
import MeshSync

// Small helpers for handing things between the control thread and other threads.

/// A value that crosses to another thread only to be handed back to the loop that owns it.
///
/// The receiving side must touch `value` on that loop's thread only (inside `EventLoop.execute`).
struct LoopBound<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A one-shot answer from the control thread. A class, so a late answer after a timed-out wait still writes
/// into live memory (the closure keeps it alive).
final class ControlReply<T: Sendable>: @unchecked Sendable {
    private let answer = Locked<T?>(nil)
    private let semaphore = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)

    init() { sem_init(semaphore, 0, 0) }

    deinit {
        sem_destroy(semaphore)
        semaphore.deallocate()
    }

    func deliver(_ value: T) {
        answer.withLock { $0 = value }
        sem_post(semaphore)
    }

    func wait(timeoutMs: Int) -> T? {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        let nanoseconds = Int(deadline.tv_nsec) + (timeoutMs % 1000) * 1_000_000
        deadline.tv_sec += timeoutMs / 1000 + nanoseconds / 1_000_000_000
        deadline.tv_nsec = nanoseconds % 1_000_000_000
        while sem_timedwait(semaphore, &deadline) != 0 {
            if errno != EINTR { return nil }
        }
        return answer.withLock { $0 }
    }
}

/// Handlers told after each `jwks.url` fetch (`ControlPlane.onKeysFetched`). Added from any thread, called on
/// the control thread; the lock is held only to copy the list.
final class KeyWatchers: Sendable {
    private let handlers = Locked<[@Sendable (String) -> Void]>([])

    func add(_ handler: @escaping @Sendable (String) -> Void) {
        handlers.withLock { $0.append(handler) }
    }

    func notify(_ provider: String) {
        for handler in handlers.withLock({ $0 }) { handler(provider) }
    }
}
