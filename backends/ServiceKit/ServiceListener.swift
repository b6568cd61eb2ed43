import Glibc
import MeshEventLoop
import MeshPosix

/// Accepts connections for a `ServiceServer` (edge-triggered: accepts until the backlog is empty).
final class ServiceListener: EventHandler {
    unowned let server: ServiceServer
    private var registration = Registration.none

    init(server: ServiceServer) {
        self.server = server
    }

    func register(fd: Int32) throws(SystemError) {
        registration = try server.loop.register(fd: fd, interest: [.readable, .edgeTriggered], handler: self)
    }

    func handleEvents(_ events: IOEvents) {
        while true {
            let result: IOResult<Int32>
            do {
                result = try Posix.accept(registration.fd, nil)
            } catch {
                // EMFILE and friends: leave the rest in the backlog; the next connection wakes us again.
                server.log.warn("accept failed", ["error": .string(error.description)])
                return
            }
            guard case .processed(let fd) = result else { return }
            Sockets.setNoDelay(fd)
            do {
                _ = try ServiceConnection(server: server, fd: fd)
            } catch {
                Posix.close(fd)
            }
        }
    }

    func handleTimer(nowMs: Int64) {}

    func close() { server.loop.close(registration) }
}
