import Glibc
import MeshPosix
import MeshSync

/// A dedicated thread that runs `getaddrinfo` (blocking) so no event loop ever waits on DNS.
///
/// Jobs are queued from any thread and answered on the resolver thread, in order; callers hand the answer
/// back to their loop with `EventLoop.execute`. One slow name delays the names queued after it, which is fine
/// for the control plane (a handful of names every `dns_refresh_ms`).
public final class BlockingResolver: @unchecked Sendable {
    /// The answer to one lookup.
    public typealias Completion = @Sendable (Result<[SocketAddress], SystemError>) -> Void
    /// A blocking name lookup (host, port) → addresses; `system` (getaddrinfo) unless a test injects another.
    public typealias Lookup = @Sendable (String, UInt16) -> Result<[SocketAddress], SystemError>

    /// getaddrinfo through `SocketAddress.resolve`; IP literals are returned without a lookup.
    public static let system: Lookup = { host, port in
        do throws(SystemError) {
            return .success(try SocketAddress.resolve(host: host, port: port))
        } catch {
            return .failure(error)
        }
    }

    private struct Job {
        let host: String
        let port: UInt16
        let completion: Completion
    }

    private struct Queue {
        var jobs: [Job] = []
        var stopped = false
    }

    private let queue = Locked(Queue())
    // sem_t must not move: it lives in its own allocation for the resolver's whole life.
    private let semaphore: UnsafeMutablePointer<sem_t>
    private let thread = Locked<WorkerThread?>(nil)
    private let lookup: Lookup

    /// Starts the resolver thread; `lookup` does the blocking work (default: getaddrinfo).
    public init(name: String = "meshgate-dns", lookup: @escaping Lookup = BlockingResolver.system) {
        self.lookup = lookup
        semaphore = .allocate(capacity: 1)
        sem_init(semaphore, 0, 0)
        let worker = WorkerThread(name: name) { [self] in self.run() }
        thread.withLock { $0 = worker }
    }

    deinit {
        sem_destroy(semaphore)
        semaphore.deallocate()
    }

    /// Queues a lookup; `completion` runs on the resolver thread. After `stop()` it fails at once (ECANCELED).
    public func resolve(host: String, port: UInt16, completion: @escaping Completion) {
        let accepted = queue.withLock { queue in
            if queue.stopped { return false }
            queue.jobs.append(Job(host: host, port: port, completion: completion))
            return true
        }
        if accepted {
            sem_post(semaphore)
        } else {
            completion(.failure(SystemError(errno: ECANCELED, call: "resolve \(host): resolver stopped")))
        }
    }

    /// Stops the thread after the lookup in progress (queued lookups fail with ECANCELED) and joins it.
    public func stop() {
        let dropped = queue.withLock { queue in
            queue.stopped = true
            let jobs = queue.jobs
            queue.jobs.removeAll()
            return jobs
        }
        sem_post(semaphore)
        for job in dropped {
            job.completion(.failure(SystemError(errno: ECANCELED, call: "resolve \(job.host): resolver stopped")))
        }
        let worker = thread.withLock { current in
            let taken = current
            current = nil
            return taken
        }
        worker?.join()
    }

    private func run() {
        while true {
            while sem_wait(semaphore) != 0 && errno == EINTR {}
            let next: Job?? = queue.withLock { queue in
                if queue.stopped { return .some(nil) }
                return queue.jobs.isEmpty ? nil : queue.jobs.removeFirst()
            }
            switch next {
            case .none: continue
            case .some(.none): return
            case .some(.some(let job)):
                job.completion(lookup(job.host, job.port))
            }
        }
    }
}
