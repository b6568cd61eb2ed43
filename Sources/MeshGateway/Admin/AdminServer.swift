import Dispatch
import Glibc
import MeshControl
import MeshEventLoop
import MeshPosix
import Synchronization

/// The admin listener (SPEC §6, default 127.0.0.1:9901): its own thread, its own `EventLoop`, a small HTTP/1.1
/// server answering `/metrics`, `/healthz`, `/readyz`, `/config`, `/upstreams`, `POST /reload` and the dashboard.
///
/// `init` binds (so a port conflict is reported before anything starts; bind port 0 and read `address` back in
/// tests); `start()` runs the loop on a new thread; `stop()` closes every connection and joins the thread.
/// At most `maxConnections` clients at once; more are closed on accept.
public final class AdminServer: @unchecked Sendable {
    /// Most simultaneous admin connections.
    public static let maxConnections = 64

    /// The bound address (the real port when bound to port 0).
    public let address: SocketAddress
    let hooks: AdminHooks
    /// Refuses requests only a web page would send (DNS rebinding, cross-site POST).
    let requestGuard: AdminRequestGuard
    let loop: EventLoop
    private let listenFD: Int32
    private var listenRegistration = Registration.none
    /// Open connections (loop thread only); the loop also holds them while registered.
    private var connections: [ObjectIdentifier: AdminConnection] = [:]
    private let stopping = Atomic<Bool>(false)
    private var thread: WorkerThread?
    private var acceptor: AdminAcceptor?

    /// Binds `address` and prepares the loop. Throws when the socket cannot be bound (SPEC §2 exit code 3).
    public init(address: SocketAddress, hooks: AdminHooks) throws(SystemError) {
        self.hooks = hooks
        loop = try EventLoop()
        listenFD = try Sockets.listener(address, reusePort: false, backlog: 128)
        let bound = Posix.localAddress(listenFD) ?? address
        self.address = bound
        requestGuard = AdminRequestGuard(bound: bound)
    }

    /// Serves on a listening socket this process inherited (systemd socket activation, a binary upgrade).
    public init(listeningFD: Int32, hooks: AdminHooks) throws(SystemError) {
        self.hooks = hooks
        loop = try EventLoop()
        listenFD = listeningFD
        let bound = Posix.localAddress(listenFD)!
        self.address = bound
        requestGuard = AdminRequestGuard(bound: bound)
    }

    /// The listening socket (for a binary upgrade to hand over); valid until `stopAccepting` or `stop`.
    var listeningFD: Int32 { listenFD }

    /// Stops accepting, closing this process's copy of the listening socket (after a binary upgrade the new
    /// process holds it, with its queue); connections in progress go on. Returns once the loop did it (bounded).
    func stopAccepting() {
        let done = DispatchSemaphore(value: 0)
        loop.execute { [self] in
            if listenRegistration != .none { loop.close(listenRegistration) }
            listenRegistration = .none
            done.signal()
        }
        _ = done.wait(timeout: .now() + .seconds(2))
    }

    /// Starts serving on a new thread named `meshgate-admin`. Call once.
    public func start() {
        let acceptor = AdminAcceptor(server: self)
        self.acceptor = acceptor
        do {
            listenRegistration = try loop.register(
                fd: listenFD, interest: [.readable, .edgeTriggered], handler: acceptor)
        } catch {
            Posix.close(listenFD)
            return
        }
        let loop = self.loop
        thread = WorkerThread(name: "meshgate-admin") { loop.run() }
    }

    /// Closes the listener and every connection, stops the loop and joins its thread. Idempotent.
    public func stop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        guard let thread else {
            Posix.close(listenFD)
            return
        }
        loop.execute { [self] in
            for connection in Array(connections.values) { connection.close() }
            if listenRegistration != .none { loop.close(listenRegistration) }
        }
        loop.stop()
        thread.join()
    }

    /// Whether `stop()` was called: responses then carry `Connection: close`.
    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    /// Accepts every pending client (edge-triggered). Loop thread.
    func acceptAll() {
        while true {
            let result: IOResult<Int32>
            do {
                result = try Posix.accept(listenFD, nil)
            } catch {
                return
            }
            guard case .processed(let fd) = result else { return }
            guard connections.count < Self.maxConnections, !isStopping else {
                Posix.close(fd)
                continue
            }
            Sockets.setNoDelay(fd)
            do {
                let connection = try AdminConnection(server: self, fd: fd)
                connections[ObjectIdentifier(connection)] = connection
            } catch {
                Posix.close(fd)
            }
        }
    }

    /// Drops a closed connection. Loop thread.
    func forget(_ connection: AdminConnection) {
        connections[ObjectIdentifier(connection)] = nil
    }
}

/// The listening socket's handler: hands readiness to `AdminServer.acceptAll`.
final class AdminAcceptor: EventHandler {
    private unowned let server: AdminServer

    init(server: AdminServer) { self.server = server }

    func handleEvents(_ events: IOEvents) { server.acceptAll() }

    func handleTimer(nowMs: Int64) {}
}
