import Glibc
import MeshEventLoop
import MeshPosix
import MeshProxy

/// Accepts client connections on one worker's socket for one configured listener.
final class Listener: EventHandler {
    unowned(unsafe) let worker: Worker
    private(set) var listenerIndex: Int
    /// The listener's routes; a reload that keeps the listener swaps them (new requests see the new routes).
    private(set) var config: CompiledListener
    private var registration = Registration.none
    /// At `max_connections`: new clients wait in the kernel's backlog (SPEC §4).
    private(set) var paused = false

    init(worker: Worker, listenerIndex: Int, config: CompiledListener) {
        self.worker = worker
        self.listenerIndex = listenerIndex
        self.config = config
    }

    var key: String { Gateway.key(config) }

    func update(config: CompiledListener, index: Int) {
        self.config = config
        listenerIndex = index
    }

    func register(fd: Int32) throws(SystemError) {
        registration = try worker.loop.register(fd: fd, interest: [.readable, .edgeTriggered], handler: self)
    }

    func handleEvents(_ events: IOEvents) {
        // Edge-triggered: accept until the backlog is empty.
        guard registration != .none else { return }
        var storage = sockaddr_storage()
        while true {
            guard worker.connections < worker.connectionLimit else {
                paused = true
                return
            }
            let result: IOResult<Int32>
            do {
                result = try Posix.accept(registration.fd, &storage)
            } catch {
                // EMFILE/ENFILE/ENOBUFS: leave the rest in the backlog; the next connection wakes us again.
                return
            }
            guard case .processed(let fd) = result else { return }
            Sockets.setNoDelay(fd)
            let address = SocketAddress(storage: storage, length: socklen_t(MemoryLayout<sockaddr_storage>.size))
            do {
                _ = try DownstreamConnection(worker: worker, listener: self, fd: fd, client: address)
            } catch {
                Posix.close(fd)
            }
        }
    }

    func handleTimer(nowMs: Int64) {}

    /// Accepts what waited in the backlog while paused (edge-triggered: no new event would come for it).
    func resume() {
        paused = false
        handleEvents(.readable)
    }

    /// Stops accepting (closing the socket; connections it accepted go on).
    func close() {
        guard registration != .none else { return }
        worker.loop.close(registration)
        registration = .none
        paused = false
    }
}
