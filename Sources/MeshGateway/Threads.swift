import Glibc

/// Starts a joinable POSIX thread running `body`.
final class WorkerThread: @unchecked Sendable {
    private var thread = pthread_t()
    private let body: () -> Void

    init(name: String, _ body: @escaping () -> Void) {
        self.body = body
        let unmanaged = Unmanaged.passRetained(self)
        let rc = pthread_create(&thread, nil, { arg in
            let this = Unmanaged<WorkerThread>.fromOpaque(arg!).takeRetainedValue()
            this.body()
            return nil
        }, unmanaged.toOpaque())
        precondition(rc == 0, "pthread_create failed: \(rc)")
        _ = pthread_setname_np(thread, String(name.prefix(15)))
    }

    func join() { pthread_join(thread, nil) }
}
