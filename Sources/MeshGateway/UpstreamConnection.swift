import MeshControl
import MeshEventLoop
import MeshHTTP1
import MeshPosix
import MeshTLS

/// One TCP connection to an endpoint. Lent to one exchange at a time; between exchanges it sits idle in its
/// `EndpointPool`, still registered with the loop, so a hang-up from the upstream is noticed and the socket
/// closed instead of being reused.
final class UpstreamConnection: EventHandler {
    enum State {
        case connecting
        case active
        case idle
        case closed
    }

    /// The worker lives as long as the process (its loop runs every handler), so this cannot dangle.
    unowned(unsafe) let worker: Worker
    /// Held strongly: the pool may be retired by a reload or DNS change while this connection is lent out,
    /// and it must still be there to take it back (and close it).
    let pool: EndpointPool
    private(set) var registration: Registration
    var state: State
    /// The exchange that owns the connection while `active`.
    weak var owner: DownstreamConnection?
    var buffer = IOBuffer()
    var readable = false
    var writable = false
    var eof = false
    /// epoll reported the upstream's FIN/RST: a short read no longer means "drained", the end is still to read.
    var hangupSeen = false
    var parser: ResponseParser
    /// TLS to the endpoint (`pool.tls`), made once TCP connects; the connection stays `connecting` until the
    /// handshake is done.
    var tls: TLSStream?
    /// For an h2c endpoint, the channel at the pair's other end: it knows whether a failed stream was ever
    /// processed by the upstream.
    var h2Channel: H2UpstreamChannel?
    /// Requests this connection has carried; > 0 means a failure may be a stale keep-alive connection.
    var served = 0
    private var idleTimer = LazyTimer()

    init(worker: Worker, pool: EndpointPool, fd: Int32, connected: Bool) throws(SystemError) {
        self.worker = worker
        self.pool = pool
        state = connected && pool.connectionTLS == nil ? .active : .connecting
        writable = connected
        parser = ResponseParser(limits: worker.limits)
        registration = Registration(fd: fd, id: 0)
        registration = try worker.loop.register(fd: fd, handler: self)
    }

    var fd: Int32 { registration.fd }

    func handleEvents(_ events: IOEvents) {
        if !events.intersection([.readable, .readHangup, .hangup, .error]).isEmpty {
            readable = true
            tls?.socketReadable = true
        }
        if !events.intersection([.readHangup, .hangup, .error]).isEmpty {
            hangupSeen = true
            tls?.peerHungUp = true
        }
        if events.contains(.writable) || events.contains(.error) { writable = true }
        switch state {
        case .connecting, .active:
            owner?.upstreamEvent(self)
        case .idle:
            // An idle connection must stay silent: any byte or hang-up means it cannot be reused.
            if readable { closeIdle() }
        case .closed:
            break
        }
    }

    func handleTimer(nowMs: Int64) {
        guard idleTimer.fired(nowMs: nowMs, loop: worker.loop, registration: registration), state == .idle else {
            return
        }
        closeIdle()
    }

    /// Whether the connection can carry another request: nothing is waiting on it that no request asked for.
    ///
    /// A response ends where its framing says, so the last read may not have drained the socket: `readable`
    /// can still be set from it (always through TLS, where a short read says nothing). One peek then tells,
    /// and clears the flag, so that only a new event marks a parked connection as spoken to (an idle
    /// connection that was closed for a stale flag on its next EPOLLOUT cost a new TLS handshake).
    func quietForReuse() -> Bool {
        if eof || hangupSeen || !buffer.isEmpty || (tls?.connection.bufferedInputCount ?? 0) > 0 { return false }
        guard readable else { return true }
        guard Posix.isQuiet(fd) else { return false }
        readable = false
        tls?.socketReadable = false
        return true
    }

    func becameIdle(deadlineMs: Int64) {
        state = .idle
        owner = nil
        parser.reset()
        buffer.release(to: worker.pool)
        idleTimer.set(deadlineMs, loop: worker.loop, registration: registration)
    }

    /// Lends a parked connection to an exchange.
    func activate(owner: DownstreamConnection) {
        if state == .idle { state = .active }
        self.owner = owner
        served += 1
        idleTimer.set(.max, loop: worker.loop, registration: registration)
    }

    // MARK: - I/O for the exchange that owns it

    enum ReadResult {
        case data
        case wouldBlock
        /// The upstream's end of the stream: a FIN, a reset, a close_notify or a TLS failure.
        case end
        /// A response head larger than a whole buffer.
        case full
    }

    /// Reads once into `buffer` after its unconsumed bytes.
    func read() -> ReadResult {
        buffer.acquire(from: worker.pool)
        if buffer.isEmpty {
            buffer.start = 0
            buffer.end = 0
        } else if buffer.spaceAtEnd == 0 {
            buffer.compact()
            if buffer.spaceAtEnd == 0 { return .full }
        }
        let space = buffer.spaceAtEnd
        let result: IOResult<Int>
        if let tls {
            result = readTLS(tls, space: space)
        } else {
            do {
                result = try Posix.receive(fd, buffer.base! + buffer.end, space)
            } catch {
                readable = false
                return .end
            }
        }
        switch result {
        case .wouldBlock:
            readable = false
            return .wouldBlock
        case .processed(0):
            readable = false
            return .end
        case .processed(let n):
            buffer.end += n
            // A short read means drained, unless the peer's FIN/RST came with the data: then read the end too.
            // Through TLS it means nothing (a read returns one record): TLSStream says when it is drained.
            if n < space && !hangupSeen && tls == nil { readable = false }
            return .data
        }
    }

    /// Reads through TLS, answering like `Posix.read`: `.processed(0)` is the end of the stream (a close_notify
    /// or a FIN), a TLS failure is thrown away as a reset would be.
    private func readTLS(_ tls: TLSStream, space: Int) -> IOResult<Int> {
        let scratch = worker.pool.take()
        defer { worker.pool.give(scratch) }
        let into = UnsafeMutableRawBufferPointer(start: buffer.base! + buffer.end, count: space)
        let staging = UnsafeMutableRawBufferPointer(start: scratch, count: worker.pool.bufferSize)
        switch tls.read(fd: fd, into: into, scratch: staging, nowMs: worker.loop.nowMs) {
        case .bytes(let n):
            // The first response on a full handshake carries the session (TLS 1.3 tickets come after the
            // handshake): keep it for the next connection to this endpoint.
            if !tls.handshakeCounted {
                tls.handshakeCounted = true
                if !tls.connection.sessionReused, let session = tls.connection.session { pool.session = session }
            }
            return .processed(n)
        case .drained, .established:
            return .wouldBlock
        case .eof, .failed:
            return .processed(0)
        }
    }

    /// Sends what `outbound` holds, through TLS when the connection has it.
    func flush(_ outbound: inout Outbound) -> Outbound.FlushResult {
        if let tls { return tls.flush(&outbound, fd: fd) }
        return outbound.flush(fd, pool: worker.pool)
    }

    enum ConnectStep {
        case connected
        case waiting
        /// TCP refused, or a TLS handshake that failed (wrong name, untrusted certificate, no common protocol):
        /// a connect failure, retried and counted like one.
        case failed
    }

    /// Advances a `connecting` connection once the socket reported writable: TCP's outcome, then the TLS
    /// handshake (made on first use; the exchange's timer bounds it, libssl's own deadline is off).
    func finishConnecting() -> ConnectStep {
        guard writable else { return .waiting }
        guard Posix.socketError(fd) == 0 else { return .failed }
        if let settings = pool.connectionTLS {
            if tls == nil {
                guard
                    let connection = try? TLSConnection(
                        client: settings.context, serverName: settings.serverName, session: pool.session,
                        handshakeDeadlineMs: .max)
                else { return .failed }
                tls = TLSStream(connection, pool: worker.pool)
            }
            switch tls!.handshakeStep(fd: fd, nowMs: worker.loop.nowMs) {
            case .established:
                break
            case .drained, .bytes:
                readable = false
                return .waiting
            case .eof, .failed:
                return .failed
            }
        }
        state = .active
        return .connected
    }

    private func closeIdle() {
        pool.removeIdle(self)
        close()
    }

    func close() {
        guard state != .closed else { return }
        state = .closed
        owner = nil
        buffer.release(to: worker.pool)
        tls?.releaseBlock()
        worker.loop.close(registration)
    }
}
