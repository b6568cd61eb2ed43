import Glibc

/// A value guarded by a pthread mutex: the one lock type in meshgate.
///
/// Why not `Synchronization.Mutex`: on Linux it hands a contended lock over with FUTEX_LOCK_PI, which
/// ThreadSanitizer cannot see, so every access under it is reported as a race and the TSan job in CI would
/// be noise. `pthread_mutex_lock` is intercepted by TSan and costs the same uncontended (one CAS).
/// Locks in meshgate are taken on cross-thread hand-overs (reloads, posted tasks, shared breaker state),
/// never held across a syscall on a worker's request path.
public final class Locked<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    public init(_ value: Value) {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        self.value = value
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` with the value while holding the lock.
    @inline(__always)
    public func withLock<R, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
