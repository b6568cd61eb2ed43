import Glibc
import MeshEventLoop
import MeshPosix
import MeshProxy

/// Accepts client connections on one worker's socket for one configured listener.
///
/// Accept errors never stall the backlog (the socket is edge-triggered: an error that returned early would
/// never be reported again): a connection that died in the backlog is skipped, and running out of
/// descriptors or kernel memory pauses accepting for `descriptorPauseMs`, then tries again (as nginx and
/// HAProxy do), or sooner when one of our connections closes.
final class Listener: EventHandler {
    /// The worker lives as long as the process (its loop runs every handler), so this cannot dangle.
    unowned(unsafe) let worker: Worker
    /// The listener's routes and the generation they index; a reload that keeps the listener swaps it (new
    /// requests see the new routes), a reload that removes it leaves it (its connections finish on it).
    private(set) var binding: ListenerBinding
    private var registration = Registration.none
    /// At `max_connections`: new clients wait in the kernel's backlog (SPEC §4).
    private(set) var paused = false
    /// Out of descriptors (or kernel memory): accepting resumes when the timer fires.
    private(set) var waitingForResources = false
    private var retryTimer = LazyTimer()
    /// A reload removed this listener: its connections close after their current request.
    var removed = false

    /// How long accepting pauses after EMFILE/ENFILE/ENOBUFS/ENOMEM.
    static let descriptorPauseMs: Int64 = 100
    /// Connections accepted per loop turn. The rest of the backlog waits for the next turn (a timer due now),
    /// so requests of established connections are not queued behind a burst of new TLS handshakes (~0.3 ms
    /// of CPU each); nginx accepts one per event (`multi_accept off`).
    static let acceptsPerTurn = 1
    /// The loop turn ended with connections still in the backlog: the timer is due now.
    private var backlogPending = false

    init(worker: Worker, binding: ListenerBinding) {
        self.worker = worker
        self.binding = binding
    }

    var config: CompiledListener { binding.config }
    var key: String { Gateway.key(config) }

    func rebind(_ binding: ListenerBinding) { self.binding = binding }

    /// The listening socket while it accepts (a binary upgrade hands it over); nil once closed.
    var fd: Int32? { registration == .none ? nil : registration.fd }

    func register(fd: Int32) throws(SystemError) {
        registration = try worker.loop.register(fd: fd, interest: [.readable, .edgeTriggered], handler: self)
    }

    func handleEvents(_ events: IOEvents) {
        guard registration != .none, !waitingForResources else { return }
        var storage = sockaddr_storage()
        for _ in 0..<Listener.acceptsPerTurn {
            guard worker.connections < worker.connectionLimit else {
                paused = true
                return
            }
            let fd: Int32
            do {
                guard case .processed(let accepted) = try Posix.accept(registration.fd, &storage) else { return }
                fd = accepted
            } catch {
                switch Listener.reaction(to: error.errno) {
                case .skip: continue
                case .pause:
                    pauseForResources()
                    return
                case .stop: return
                }
            }
            Sockets.setNoDelay(fd)
            let address = SocketAddress(storage: storage, length: socklen_t(MemoryLayout<sockaddr_storage>.size))
            do {
                _ = try DownstreamConnection(worker: worker, listener: self, fd: fd, client: address)
            } catch {
                Posix.close(fd)
            }
        }
        // The turn's share is taken and the backlog may hold more. Edge-triggered: no new event comes for what is
        // left, so come back on the next turn.
        backlogPending = true
        retryTimer.set(worker.loop.nowMs, loop: worker.loop, registration: registration)
    }

    /// What an `accept4` error means for the accept loop.
    enum AcceptReaction: Equatable {
        /// The failed connection is gone (accept(2): treat like EAGAIN and retry); keep accepting.
        case skip
        /// The process or the kernel is out of a resource: leave the backlog and retry after a pause.
        case pause
        /// The socket itself is unusable (closed during drain, not listening): nothing to retry.
        case stop
    }

    static func reaction(to errno: Int32) -> AcceptReaction {
        switch errno {
        case EMFILE, ENFILE, ENOBUFS, ENOMEM: .pause
        case EBADF, EINVAL, ENOTSOCK, EOPNOTSUPP, EFAULT: .stop
        // ECONNABORTED, EPROTO, EPERM (firewall) and the network errors accept(2) passes on from the new
        // socket (ENETDOWN, EHOSTUNREACH, …) concern that one connection only.
        default: .skip
        }
    }

    private func pauseForResources() {
        waitingForResources = true
        retryTimer.set(worker.loop.nowMs &+ Listener.descriptorPauseMs, loop: worker.loop, registration: registration)
    }

    func handleTimer(nowMs: Int64) {
        guard registration != .none, retryTimer.fired(nowMs: nowMs, loop: worker.loop, registration: registration),
            waitingForResources || backlogPending
        else { return }
        waitingForResources = false
        backlogPending = false
        handleEvents(.readable)
    }

    /// Accepts what waited in the backlog while paused (edge-triggered: no new event would come for it).
    func resume() {
        paused = false
        // A connection closed: a descriptor is free again, so a resource pause may end early too.
        waitingForResources = false
        handleEvents(.readable)
    }

    /// Stops accepting (closing the socket; connections it accepted go on).
    func close() {
        guard registration != .none else { return }
        worker.loop.close(registration)
        registration = .none
        paused = false
        waitingForResources = false
    }
}
