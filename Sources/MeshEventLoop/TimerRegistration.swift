import CLinux
import Glibc
import MeshPosix

extension EventLoop {
    /// A registration for a handler that needs the loop's timers but has no socket (control-plane schedules, a
    /// client backing off between connections): the timer heap keys on registrations, so this registers an
    /// eventfd that is never signalled. `close` the registration to free it.
    public func registerTimerOnly(handler: any EventHandler) throws(SystemError) -> Registration {
        let fd = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        if fd < 0 { throw SystemError(errno: Glibc.errno, call: "eventfd") }
        do throws(SystemError) {
            return try register(fd: fd, interest: [.readable, .edgeTriggered], handler: handler)
        } catch {
            Posix.close(fd)
            throw error
        }
    }
}
