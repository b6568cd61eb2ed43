import MeshEventLoop
import MeshPosix

/// The connection's timer registration, which lives while it has no socket (backing off).
final class TimerAnchor: EventHandler {
    weak var owner: RedisConnection?
    private unowned let loop: EventLoop
    private(set) var registration = Registration.none

    init(loop: EventLoop) throws(SystemError) {
        self.loop = loop
        registration = try loop.registerTimerOnly(handler: self)
    }

    func close() {
        if registration != .none { loop.close(registration) }
        registration = .none
    }

    func handleEvents(_ events: IOEvents) {}
    func handleTimer(nowMs: Int64) { owner?.timerFired(nowMs: nowMs) }
}
