import CLinux
import Glibc
import MeshEventLoop
import MeshPosix
import MeshRateLimit

/// Why a command got no reply.
public enum RedisFailure: Error, Sendable, Equatable {
    /// No reply within `timeout_ms`; the connection is dropped and re-established (a hung Redis may still send
    /// the reply later, which would shift every later reply onto the wrong command).
    case timeout
    /// The connection broke (or never came up) before the reply; the command may or may not have run.
    case connectionLost
    /// The reply stream was malformed; the connection is dropped.
    case protocolError(RESPError)
}

/// One non-blocking, pipelined connection to Redis on a worker's event loop (one per worker: no lock, no
/// cross-thread hand-over). Confined to the loop's thread.
///
/// - Connects at `start()`. Commands are taken only while connected: while connecting or backing off `send`
///   refuses at once (false), so a request never waits for a connection, only for a reply.
/// - Replies come back in order (RESP is FIFO); each command has a deadline of `timeoutMs` on the loop's clock.
///   The first deadline missed fails every pending command and closes the connection.
/// - After a failure it reconnects with exponential back-off (`backoffBaseMs` doubling up to `backoffMaxMs`);
///   while waiting, `send` refuses at once (returns false), so callers apply `on_error` without waiting.
/// - Never blocks: connect, write and read are non-blocking and every wait is a timer.
public final class RedisConnection {
    public struct Settings: Sendable {
        public var address: SocketAddress
        public var timeoutMs: Int64
        public var connectTimeoutMs: Int64
        public var backoffBaseMs: Int64 = 50
        public var backoffMaxMs: Int64 = 2000
        /// Commands in flight beyond this are refused (a hung Redis must not queue requests without end).
        public var maxPending = 4096

        /// - Parameter timeoutMs: `rate_limits.store.timeout_ms`; connecting gets at least a second.
        public init(address: SocketAddress, timeoutMs: Int64) {
            self.address = address
            self.timeoutMs = timeoutMs
            connectTimeoutMs = max(timeoutMs, 1000)
        }
    }

    /// Called with the reply or the failure, on the loop's thread, never from inside `send`.
    public typealias Completion = (Result<RESPValue, RedisFailure>) -> Void

    enum State {
        case idle
        case connecting(deadlineMs: Int64)
        case connected
        case backingOff(untilMs: Int64)
        case closed
    }

    public let settings: Settings
    public let counters = RedisCounters()
    /// Called when the connection comes up (e.g. `GlobalRateLimiter.storeUp()`), and when it goes down.
    public var onUp: (() -> Void)?
    public var onDown: (() -> Void)?

    unowned let loop: EventLoop
    var state = State.idle
    var socket = Registration.none
    private var anchor: TimerAnchor!
    private var timer = LazyTimer()
    private var pending: [(deadlineMs: Int64, completion: Completion)] = []
    private var pendingHead = 0
    private var outbound: [UInt8] = []
    private var written = 0
    private var decoder = RESPDecoder()
    private let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 16384, alignment: 8)
    private var failuresInARow = 0
    /// A write failed inside `send`; the timer reports it on the next loop turn.
    private var broken = false

    /// Registers a timer anchor with `loop`; call on the loop's thread (or before it runs).
    public init(loop: EventLoop, settings: Settings) throws(SystemError) {
        self.loop = loop
        self.settings = settings
        anchor = try TimerAnchor(loop: loop)
        anchor.owner = self
    }

    deinit { chunk.deallocate() }

    public var isConnected: Bool {
        if case .connected = state { return true }
        return false
    }

    /// Number of commands awaiting a reply.
    public var pendingCount: Int { pending.count - pendingHead }

    /// Starts connecting.
    public func start() {
        guard case .idle = state else { return }
        connect()
    }

    /// Sends one encoded command (see `RESPEncoder`). Returns false, without calling `completion`, when the
    /// connection is not up (connecting, backing off, closed) or too many commands are in flight: apply
    /// `on_error` then.
    @discardableResult
    public func send(_ command: [UInt8], completion: @escaping Completion) -> Bool {
        guard case .connected = state, !broken, pendingCount < settings.maxPending else { return false }
        pending.append((loop.nowMs + settings.timeoutMs, completion))
        outbound.append(contentsOf: command)
        counters.bump(counters.commands)
        flush(insideSend: true)
        rearm()
        return true
    }

    /// Closes for good: pending commands fail with `.connectionLost`.
    public func close() {
        drop(reason: .connectionLost, reconnect: false)
        state = .closed
        anchor.close()
    }

    // MARK: - Connecting

    private func connect() {
        do {
            let fd = try Sockets.stream(family: settings.address.family)
            do {
                socket = try loop.register(fd: fd, handler: SocketHandler(self))
            } catch {
                Posix.close(fd)
                throw error
            }
            state = .connecting(deadlineMs: loop.nowMs + settings.connectTimeoutMs)
            if case .processed = try Posix.connect(socket.fd, settings.address) { connected() }
        } catch {
            connectFailed()
        }
        rearm()
    }

    private func connected() {
        state = .connected
        counters.bump(counters.connects)
        counters.connected.store(true, ordering: .relaxed)
        onUp?()
        flush()
    }

    private func connectFailed() {
        counters.bump(counters.connectFailures)
        drop(reason: .connectionLost, reconnect: true)
    }

    /// Fails every pending command, closes the socket and (unless closing for good) schedules a reconnect.
    func drop(reason: RedisFailure, reconnect: Bool) {
        let wasUp = isConnected
        if wasUp { counters.bump(counters.disconnects) }
        if socket != .none { loop.close(socket) }
        socket = .none
        counters.connected.store(false, ordering: .relaxed)
        let failed = pending[pendingHead...]
        pending.removeAll(keepingCapacity: true)
        pendingHead = 0
        outbound.removeAll(keepingCapacity: true)
        written = 0
        decoder = RESPDecoder()
        broken = false
        // The new state is set before any completion runs: a completion that sends again must see it.
        state = reconnect ? state : .closed
        if reconnect {
            failuresInARow += 1
            let shift = Int64(min(failuresInARow - 1, 20))
            let delay = min(settings.backoffMaxMs, settings.backoffBaseMs << shift)
            state = .backingOff(untilMs: loop.nowMs + delay)
            rearm()
        }
        if wasUp || reconnect { onDown?() }
        for entry in failed {
            if reason == .timeout { counters.bump(counters.timeouts) } else { counters.bump(counters.connectionErrors) }
            entry.completion(.failure(reason))
        }
    }

    // MARK: - Events

    func socketEvents(_ events: IOEvents) {
        if case .connecting = state {
            guard !events.intersection([.writable, .error, .hangup]).isEmpty else { return }
            if Posix.socketError(socket.fd) != 0 { return connectFailed() }
            connected()
        }
        guard isConnected else { return }
        if events.contains(.writable) { flush() }
        if !events.intersection([.readable, .readHangup, .hangup, .error]).isEmpty { readAvailable() }
    }

    func timerFired(nowMs: Int64) {
        guard timer.fired(nowMs: nowMs, loop: loop, registration: anchor.registration) else { return }
        if broken { return drop(reason: .connectionLost, reconnect: true) }
        switch state {
        case .connecting(let deadline) where deadline <= nowMs:
            connectFailed()
        case .backingOff(let until) where until <= nowMs:
            connect()
        default:
            if pendingCount > 0, pending[pendingHead].deadlineMs <= nowMs {
                drop(reason: .timeout, reconnect: true)
            }
        }
        rearm()
    }

    /// Sets the timer to the earliest thing to wake up for.
    private func rearm() {
        var deadline = Int64.max
        switch state {
        case .connecting(let d): deadline = d
        case .backingOff(let until): deadline = until
        default: break
        }
        if pendingCount > 0 { deadline = min(deadline, pending[pendingHead].deadlineMs) }
        guard anchor.registration != .none else { return }
        timer.set(deadline, loop: loop, registration: anchor.registration)
    }

    // MARK: - I/O

    /// Writes what the socket takes. A write error while inside `send` is reported on the next loop turn
    /// (through the timer), so completions never run inside `send`.
    private func flush(insideSend: Bool = false) {
        while written < outbound.count {
            let result: IOResult<Int>
            do {
                result = try outbound.withUnsafeBytes { bytes throws(SystemError) in
                    try Posix.write(socket.fd, bytes.baseAddress! + written, bytes.count - written)
                }
            } catch {
                if insideSend {
                    broken = true
                    return timer.set(loop.nowMs, loop: loop, registration: anchor.registration)
                }
                return drop(reason: .connectionLost, reconnect: true)
            }
            guard case .processed(let count) = result else { return }  // EAGAIN: wait for writability
            written += count
        }
        outbound.removeAll(keepingCapacity: true)
        written = 0
    }

    private func readAvailable() {
        while isConnected {
            let result: IOResult<Int>
            do {
                result = try Posix.receive(socket.fd, chunk.baseAddress!, chunk.count)
            } catch {
                return drop(reason: .connectionLost, reconnect: true)
            }
            switch result {
            case .wouldBlock: return
            case .processed(0): return drop(reason: .connectionLost, reconnect: true)
            case .processed(let count):
                decoder.append(UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
                deliverReplies()
            }
        }
    }

    private func deliverReplies() {
        while isConnected {
            let value: RESPValue?
            do {
                value = try decoder.next()
            } catch {
                return drop(reason: .protocolError(error), reconnect: true)
            }
            guard let value else { return }
            guard pendingCount > 0 else { return drop(reason: .protocolError(.badLength), reconnect: true) }
            let entry = pending[pendingHead]
            pendingHead += 1
            if pendingHead == pending.count {
                pending.removeAll(keepingCapacity: true)
                pendingHead = 0
            }
            failuresInARow = 0
            counters.bump(counters.replies)
            entry.completion(.success(value))
        }
        rearm()
    }
}

/// Forwards socket readiness to the connection (the loop holds handlers strongly; the connection owns it).
private final class SocketHandler: EventHandler {
    unowned let owner: RedisConnection
    init(_ owner: RedisConnection) { self.owner = owner }
    func handleEvents(_ events: IOEvents) { owner.socketEvents(events) }
    func handleTimer(nowMs: Int64) {}
}
