import Glibc
import MeshEventLoop
import MeshPosix
import MeshProxy

/// Accepts client connections on one worker's socket for one configured listener.
final class Listener: EventHandler {
    unowned(unsafe) let worker: Worker
    let listenerIndex: Int
    let config: CompiledListener
    private var registration = Registration.none
    /// At `max_connections`: new clients wait in the kernel's backlog (SPEC §4).
    private(set) var paused = false

    init(worker: Worker, listenerIndex: Int, config: CompiledListener) {
        self.worker = worker
        self.listenerIndex = listenerIndex
        self.config = config
    }

    func register(fd: Int32) throws(SystemError) {
        registration = try worker.loop.register(fd: fd, interest: [.readable, .edgeTriggered], handler: self)
    }

    func handleEvents(_ events: IOEvents) {
        // Edge-triggered: accept until the backlog is empty.
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

    func close() { worker.loop.close(registration) }
}
