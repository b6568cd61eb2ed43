import MeshEventLoop
import MeshPosix

/// One-shot closure timers on an event loop, for control-plane work that has no socket of its own (refresh
/// schedules, probe intervals, request deadlines before a socket exists).
///
/// One timer-only registration (`EventLoop.registerTimerOnly`); every `schedule` pushes one heap entry for it. Confined to the loop's thread. A control plane has
/// a few dozen timers at most, so due entries are found with a linear scan.
public final class LoopTimers: EventHandler {
    /// Identifies a scheduled action, for `cancel`.
    public struct ID: Hashable, Sendable {
        let value: UInt64
    }

    private unowned let loop: EventLoop
    private var registration = Registration.none
    private var entries: [UInt64: (deadlineMs: Int64, action: () -> Void)] = [:]
    private var nextID: UInt64 = 0

    /// Registers with `loop`; call on the loop's thread (or before it runs). `loop` must outlive this object.
    public init(loop: EventLoop) throws(SystemError) {
        self.loop = loop
        registration = try loop.registerTimerOnly(handler: self)
    }

    /// Number of pending actions.
    public var pending: Int { entries.count }

    /// Runs `action` on the loop's thread once `delayMs` (≥ 0) have passed on the loop's clock.
    @discardableResult
    public func schedule(afterMs delayMs: Int64, _ action: @escaping () -> Void) -> ID {
        nextID &+= 1
        let deadline = loop.nowMs + max(0, delayMs)
        entries[nextID] = (deadline, action)
        loop.schedule(registration, atMs: deadline)
        return ID(value: nextID)
    }

    /// Forgets a pending action; a no-op when it already ran or was cancelled.
    public func cancel(_ id: ID?) {
        guard let id else { return }
        entries[id.value] = nil
    }

    /// Drops every pending action and unregisters (closes the eventfd).
    public func close() {
        entries.removeAll()
        if registration != .none { loop.close(registration) }
        registration = .none
    }

    /// The eventfd is never signalled: nothing to do.
    public func handleEvents(_ events: IOEvents) {}

    /// Runs every action due at `nowMs`, earliest first.
    public func handleTimer(nowMs: Int64) {
        let due = entries.filter { $0.value.deadlineMs <= nowMs }.sorted { $0.value.deadlineMs < $1.value.deadlineMs }
        // An action may cancel another one due in the same batch: look each up again just before running it.
        for (id, _) in due {
            guard let entry = entries.removeValue(forKey: id) else { continue }
            entry.action()
        }
    }
}
