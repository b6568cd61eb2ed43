import CLinux
import Glibc
import MeshEventLoop
import MeshPosix

/// An eventfd registered once and never signalled, so the connection has a registration for its timer even
/// while it has no socket (backing off).
final class TimerAnchor: EventHandler {
    weak var owner: RedisConnection?
    private unowned let loop: EventLoop
    private(set) var registration = Registration.none

    init(loop: EventLoop) throws(SystemError) {
        self.loop = loop
        let fd = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        if fd < 0 { throw SystemError(errno: Glibc.errno, call: "eventfd") }
        do throws(SystemError) {
            registration = try loop.register(fd: fd, interest: [.readable, .edgeTriggered], handler: self)
        } catch {
            Posix.close(fd)
            throw error
        }
    }

    func close() {
        if registration != .none { loop.close(registration) }
        registration = .none
    }

    func handleEvents(_ events: IOEvents) {}
    func handleTimer(nowMs: Int64) { owner?.timerFired(nowMs: nowMs) }
}
