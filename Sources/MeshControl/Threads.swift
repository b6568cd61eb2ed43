import CLinux
import Glibc

/// Starts a joinable POSIX thread running `body`.
public final class WorkerThread: @unchecked Sendable {
    private var thread = pthread_t()
    private let body: () -> Void
    private let name: String

    public init(name: String, _ body: @escaping () -> Void) {
        self.body = body
        self.name = String(name.prefix(15))
        let unmanaged = Unmanaged.passRetained(self)
        let rc = pthread_create(
            &thread, nil,
            { arg in
                let this = Unmanaged<WorkerThread>.fromOpaque(arg!).takeRetainedValue()
                clinux_set_thread_name(this.name)
                this.body()
                return nil
            }, unmanaged.toOpaque())
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    public func join() { pthread_join(thread, nil) }

    /// For a thread nobody waits for (it ends on its own, or with the process): its resources go back when it
    /// ends, and it is not a leaked joinable thread at exit (ThreadSanitizer reports those).
    public func detach() { pthread_detach(thread) }
}
