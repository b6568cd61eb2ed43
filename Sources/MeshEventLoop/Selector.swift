import CLinux
import Glibc
import MeshPosix

/// Readiness bits, as epoll reports them.
public struct IOEvents: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let readable = IOEvents(rawValue: CLINUX_EPOLLIN)
    public static let writable = IOEvents(rawValue: CLINUX_EPOLLOUT)
    /// The peer shut down its sending side (half-close) or the connection is gone.
    public static let readHangup = IOEvents(rawValue: CLINUX_EPOLLRDHUP)
    public static let hangup = IOEvents(rawValue: CLINUX_EPOLLHUP)
    public static let error = IOEvents(rawValue: CLINUX_EPOLLERR)
    /// Edge-triggered: each descriptor is registered once and never modified per request.
    public static let edgeTriggered = IOEvents(rawValue: CLINUX_EPOLLET)
    public static let all: IOEvents = [.readable, .writable, .readHangup, .edgeTriggered]
    /// Never from epoll (no epoll bit is this high): `EventLoop.post`ed by this thread to say "work is queued
    /// for you", e.g. output many streams queued, to be written once.
    public static let wake = IOEvents(rawValue: 1 << 24)
}

/// A thin owner of one epoll instance (`epoll_create1(EPOLL_CLOEXEC)`).
///
/// `epoll_event.data` carries `registrationID << 32 | fd`, so the loop can drop an event meant for a
/// descriptor that was closed and whose number was reused within the same batch (STYLE #2).
final class Selector {
    let epollFD: Int32
    let events: UnsafeMutablePointer<epoll_event>
    let capacity: Int32 = 512

    init() throws(SystemError) {
        let fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        if fd < 0 { throw SystemError(errno: Glibc.errno, call: "epoll_create1") }
        epollFD = fd
        events = .allocate(capacity: Int(capacity))
    }

    deinit {
        events.deallocate()
        Posix.close(epollFD)
    }

    func add(fd: Int32, id: UInt32, interest: IOEvents) throws(SystemError) {
        try control(EPOLL_CTL_ADD, fd: fd, id: id, interest: interest)
    }

    func modify(fd: Int32, id: UInt32, interest: IOEvents) throws(SystemError) {
        try control(EPOLL_CTL_MOD, fd: fd, id: id, interest: interest)
    }

    func remove(fd: Int32) {
        var ev = epoll_event()
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, &ev)
    }

    private func control(_ op: Int32, fd: Int32, id: UInt32, interest: IOEvents) throws(SystemError) {
        var ev = epoll_event()
        clinux_epoll_event_set(&ev, interest.rawValue, UInt64(id) << 32 | UInt64(UInt32(bitPattern: fd)))
        if epoll_ctl(epollFD, op, fd, &ev) != 0 { throw SystemError(errno: Glibc.errno, call: "epoll_ctl") }
    }

    /// Waits up to `timeoutMs` (-1 forever); returns the number of events filled in.
    func wait(timeoutMs: Int32) -> Int {
        let n = epoll_wait(epollFD, events, capacity, timeoutMs)
        if n < 0 {
            precondition(Glibc.errno == EINTR, "epoll_wait failed: errno \(Glibc.errno)")
            return 0
        }
        return Int(n)
    }

    @inline(__always)
    func event(at index: Int) -> (fd: Int32, id: UInt32, events: IOEvents) {
        let pointer = events + index
        let data = clinux_epoll_event_data(pointer)
        return (
            Int32(bitPattern: UInt32(truncatingIfNeeded: data)), UInt32(truncatingIfNeeded: data >> 32),
            IOEvents(rawValue: clinux_epoll_event_events(pointer))
        )
    }
}
