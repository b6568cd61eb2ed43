import Glibc
import Synchronization

/// Turns SIGTERM/SIGINT into a callback on a dedicated thread: the signals are blocked in the calling thread
/// (and so in every thread started after it) and collected with `sigwait`, so no async-signal-safety rules
/// apply to `onSignal`.
final class SignalWatcher: @unchecked Sendable {
    private let onSignal: @Sendable () -> Void
    private let signal = Atomic<Int32>(0)

    private init(onSignal: @escaping @Sendable () -> Void) {
        self.onSignal = onSignal
    }

    /// The signal received so far (0 when none).
    var received: Int32 { signal.load(ordering: .acquiring) }

    /// Blocks SIGTERM and SIGINT and starts the watching thread. Call before starting other threads.
    static func start(_ onSignal: @escaping @Sendable () -> Void) -> SignalWatcher {
        var set = SignalWatcher.signalSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
        let watcher = SignalWatcher(onSignal: onSignal)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(watcher).toOpaque()
        let rc = pthread_create(
            &thread,
            nil,
            { arg in
                let watcher = Unmanaged<SignalWatcher>.fromOpaque(arg!).takeRetainedValue()
                var set = SignalWatcher.signalSet()
                var number: Int32 = 0
                while sigwait(&set, &number) != 0 {}
                watcher.signal.store(number, ordering: .releasing)
                watcher.onSignal()
                return nil
            },
            context
        )
        precondition(rc == 0, "pthread_create failed: \(rc)")
        pthread_detach(thread)
        return watcher
    }

    private static func signalSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        return set
    }
}
