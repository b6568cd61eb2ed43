import CLinux
import Glibc
import MeshControl
import MeshEventLoop
import MeshHTTP1
import MeshHTTP2
import MeshPosix
import MeshTLS

/// One worker's HTTP/2 connection to one endpoint of an `"protocol": "h2c"` or `"h2"` upstream (SPEC §10): the
/// client codec on a TCP socket (through TLS with ALPN h2 for `h2`), carrying one stream per `H2UpstreamChannel`
/// at a time, up to the peer's SETTINGS_MAX_CONCURRENT_STREAMS (more channels wait for a stream to end).
///
/// The exchange does not know about it: it talks HTTP/1.1 to a channel through a socket pair, as the HTTP/2 client
/// side does (`HTTP2StreamBridge`), so retries, timeouts, breakers and the trust boundary are the HTTP/1 path's.
/// Owned by its `EndpointPool` while it takes new streams; channels hold it until their stream ends. A GOAWAY or a
/// failure detaches it from the pool, so the next request opens a new connection.
final class H2UpstreamSession: EventHandler {
    unowned(unsafe) let worker: Worker
    /// The pool this connection serves, held strongly: a channel may report its end after the exchange's
    /// connection (the pool's last other holder) is gone. The pool's `h2` points back until `detach` (GOAWAY,
    /// failure, or the pool's retirement), which breaks the cycle.
    let pool: EndpointPool
    private var registration = Registration.none
    var codec = HTTP2ClientConnection()
    /// TLS for an `h2` upstream; the connection carries frames once its handshake agreed on h2.
    private var tls: TLSStream?
    /// TCP is connected (and, with TLS, the handshake done): frames may go.
    private var connected = false
    private var tcpConnected = false
    private var writable = false
    /// The connection failed or ended: it carries nothing more.
    private(set) var dead = false
    /// Channels by the stream they carry, and channels waiting for a stream slot (oldest first).
    private var streams = StreamTable<H2UpstreamChannel>()
    private var waiting: [H2UpstreamChannel] = []
    /// `flush` is admitting waiting channels (each open flushes in turn).
    private var admitting = false
    /// Channels whose request body waits for room in the codec's output, not for window.
    private var waitingForRoom = RoomWaiters<H2UpstreamChannel>()
    private var events: [HTTP2ClientEvent] = []
    private var connectTimer = LazyTimer()
    /// Field offsets while a channel parses its request head (one at a time, on this thread).
    let headerScratch = UnsafeMutableBufferPointer<HTTPHeaderField>.allocate(capacity: 256)
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 1)
    /// Where a channel reads its exchange's request bytes (one read at a time, on this thread).
    let channelScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 1)

    init(worker: Worker, pool: EndpointPool) throws(SystemError) {
        self.worker = worker
        self.pool = pool
        if let settings = pool.tls {
            // connect_timeout_ms covers the handshake (the timer below); libssl's own deadline is off.
            guard
                let connection = try? TLSConnection(
                    client: settings.context, serverName: settings.serverName, session: pool.session,
                    handshakeDeadlineMs: .max)
            else { throw SystemError(errno: ENOMEM, call: "SSL_new") }
            tls = TLSStream(connection, pool: worker.pool)
        }
        let fd = try Sockets.stream(family: pool.address.family)
        do throws(SystemError) {
            switch try Posix.connect(fd, pool.address) {
            case .processed: tcpConnected = true
            case .wouldBlock: tcpConnected = false
            }
            writable = tcpConnected
            registration = try worker.loop.register(fd: fd, handler: self)
        } catch {
            Posix.close(fd)
            tls?.releaseBlock()
            throw error
        }
        Sockets.setNoDelay(fd)
        connected = tcpConnected && tls == nil
        if !connected {
            connectTimer.set(worker.loop.nowMs + Int64(pool.connectTimeoutMs), loop: worker.loop, registration: registration)
        }
        if tcpConnected && tls != nil { handshake() }
    }

    deinit {
        headerScratch.deallocate()
        readBuffer.deallocate()
        channelScratch.deallocate()
    }

    private var nowNs: UInt64 { UInt64(max(0, clinux_monotonic_ns())) }

    /// GOAWAY either way, or ids spent: the streams open go on, new ones go to another connection.
    private var goingAway = false

    // MARK: - Streams

    /// Opens a stream for `channel`'s request, or queues it until the peer allows another stream or the output
    /// drains (`flush`); false when this connection cannot carry it (the channel fails its exchange).
    func open(_ channel: H2UpstreamChannel, head: HTTP2HeaderList, endStream: Bool) -> Bool {
        guard !dead else { return false }
        do throws(HTTP2OpenStreamError) {
            let id = try codec.openStream(head: head, endStream: endStream)
            streams[id] = channel
            channel.streamOpened(id)
            flush()
            return true
        } catch .concurrencyLimit {
            waiting.append(channel)
            return true
        } catch .outboundFull {
            waiting.append(channel)
            return true
        } catch .goingAway, .streamIDsExhausted, .connectionClosed {
            detach()
            return false
        } catch {
            return false
        }
    }

    /// A channel is done with its stream (answered, reset, or its exchange gone).
    func release(_ channel: H2UpstreamChannel, streamID: UInt32?, reset: Bool) {
        if let streamID, streams[streamID] === channel {
            streams.removeValue(forKey: streamID)
            if reset { codec.resetStream(streamID: streamID, code: .cancel) }
        }
        waiting.removeAll { $0 === channel }
        admitWaiting()
        flush()
        if (goingAway || pool.retired) && streams.isEmpty && waiting.isEmpty { close() }
    }

    private func admitWaiting() {
        while !waiting.isEmpty && codec.canOpenStream {
            waiting.removeFirst().retryOpen()
        }
    }

    // MARK: - I/O

    func handleEvents(_ events: IOEvents) {
        guard !dead else { return }
        if events.contains(.writable) || events.contains(.error) { writable = true }
        let readable = !events.intersection([.readable, .readHangup, .hangup, .error]).isEmpty
        if readable { tls?.socketReadable = true }
        if !events.intersection([.readHangup, .hangup, .error]).isEmpty { tls?.peerHungUp = true }
        if !tcpConnected {
            guard writable else { return }
            guard Posix.socketError(registration.fd) == 0 else { return fail() }
            tcpConnected = true
            if tls == nil {
                connected = true
                connectTimer.set(.max, loop: worker.loop, registration: registration)
            }
        }
        if !connected {
            handshake()
        } else if readable {
            readAll()
        }
        if !dead { flush() }
    }

    /// Advances the TLS handshake; once done, the connection must have agreed on h2 (RFC 9113 §3.2), else it
    /// fails like a refused connection (every stream waiting on it was never sent: retried as connect failures).
    private func handshake() {
        guard let tls, !connected, !dead else { return }
        switch tls.handshakeStep(fd: registration.fd, nowMs: worker.loop.nowMs) {
        case .established:
            guard tls.speaksHTTP2 else { return fail() }
            connected = true
            connectTimer.set(.max, loop: worker.loop, registration: registration)
            readAll()
        case .drained, .bytes:
            return
        case .eof, .failed:
            fail()
        }
    }

    func handleTimer(nowMs: Int64) {
        guard connectTimer.fired(nowMs: nowMs, loop: worker.loop, registration: registration), !connected else {
            return
        }
        fail()
    }

    private func readAll() {
        while !dead {
            let result: IOResult<Int>
            if let tls {
                result = readTLS(tls)
            } else {
                do {
                    result = try Posix.receive(registration.fd, readBuffer.baseAddress!, readBuffer.count)
                } catch {
                    return fail()
                }
            }
            switch result {
            case .wouldBlock: return
            case .processed(0): return fail()
            case .processed(let n):
                codec.feed(UnsafeRawBufferPointer(rebasing: readBuffer[0..<n]), now: nowNs, into: &events)
                dispatch()
            }
        }
    }

    private func dispatch() {
        let batch = events
        events.removeAll(keepingCapacity: true)
        for event in batch {
            switch event {
            case .response(let id, let head, let endStream): streams[id]?.response(head, endStream: endStream)
            case .data(let id, let bytes, let endStream):
                if let channel = streams[id] {
                    channel.data(bytes, endStream: endStream)
                } else {
                    codec.consumed(streamID: id, bytes: bytes.count)
                }
            case .trailers(let id, let fields): streams[id]?.trailers(fields)
            case .streamReset(let id, _, let retrySafe):
                streams.removeValue(forKey: id)?.streamFailed(unprocessed: retrySafe)
            case .streamFailed(let id, _, _):
                streams.removeValue(forKey: id)?.streamFailed(unprocessed: false)
            case .goAway(_, _, let unprocessed):
                detach()
                for id in unprocessed { streams.removeValue(forKey: id)?.streamFailed(unprocessed: true) }
                for channel in waiting { channel.streamFailed(unprocessed: true) }
                waiting.removeAll()
            case .windowOpened(let id):
                if id == 0 { for channel in streams.values { channel.pump() } } else { streams[id]?.pump() }
            case .streamLimitChanged: admitWaiting()
            case .pingAcknowledged: break
            case .connectionError:
                flush()
                fail()
                return
            }
        }
    }

    /// Decrypts into the read buffer, answering like `Posix.read` (0: the end, or a TLS failure).
    private func readTLS(_ tls: TLSStream) -> IOResult<Int> {
        let scratch = worker.pool.take()
        defer { worker.pool.give(scratch) }
        let staging = UnsafeMutableRawBufferPointer(start: scratch, count: worker.pool.bufferSize)
        switch tls.read(fd: registration.fd, into: readBuffer, scratch: staging, nowMs: worker.loop.nowMs) {
        case .bytes(let n):
            // TLS 1.3 tickets follow the handshake: the first bytes read carry the session to resume next time.
            if !tls.handshakeCounted {
                tls.handshakeCounted = true
                if !tls.connection.sessionReused, let session = tls.connection.session { pool.session = session }
            }
            return .processed(n)
        case .drained, .established: return .wouldBlock
        case .eof, .failed: return .processed(0)
        }
    }

    /// Writes what the codec queued; returns when the socket is full (EPOLLOUT resumes) or all is out.
    func flush() {
        guard connected, !dead else { return }
        if let tls { flushTLS(tls) } else { flushPlain() }
        guard !dead, codec.outboundCount == 0 else { return }
        // An open that found the output full waits for it to drain, not for some stream to end: with only
        // long-lived streams open (an upload, a gRPC stream) it waited for one of them. First, so its HEADERS
        // go before more of the uploads' DATA; not from the flush its own open makes.
        if !waiting.isEmpty && !admitting {
            admitting = true
            admitWaiting()
            admitting = false
        }
        // A large upload to an upstream with a large window stalled like a large answer to a client (issue 12).
        if !waitingForRoom.isEmpty {
            for channel in waitingForRoom.takeAll() { channel.pump() }
        }
    }

    /// `channel` has request bytes the codec's output budget did not take (`RoomWaiters`).
    func waitForRoom(_ channel: H2UpstreamChannel) { waitingForRoom.add(channel) }

    private func flushPlain() {
        while writable && codec.outboundCount > 0 {
            var failed = false
            codec.drainOutbound { bytes in
                switch try? Posix.write(registration.fd, bytes.baseAddress!, bytes.count) {
                case .processed(let n): return n
                case .wouldBlock:
                    writable = false
                    return 0
                case nil:
                    failed = true
                    return 0
                }
            }
            if failed { return fail() }
        }
    }

    /// `flush` through TLS: records are sealed from the codec's output as the socket takes them.
    private func flushTLS(_ tls: TLSStream) {
        if tls.hasPendingOutput, writable {
            switch tls.sendPending(fd: registration.fd) {
            case .done: break
            case .blocked: writable = false
            case .failed: return fail()
            }
        }
        while writable && codec.outboundCount > 0 {
            var failed = false
            codec.drainOutbound { bytes in
                var out = Outbound()
                out.queueBody(bytes)
                switch tls.flush(&out, fd: registration.fd) {
                case .done: break
                case .blocked: writable = false
                case .failed: failed = true
                }
                return bytes.count - out.count
            }
            if failed { return fail() }
        }
    }

    // MARK: - Ending

    /// No new streams here (GOAWAY, ids spent): the pool opens another connection for the next request.
    private func detach() {
        goingAway = true
        if pool.h2 === self { pool.h2 = nil }
    }

    /// The connection is gone: every channel's exchange fails (the exchange retries as its rules say).
    private func fail() {
        guard !dead else { return }
        dead = true
        detach()
        let open = Array(streams.values)
        let queued = waiting
        streams.removeAll()
        waiting.removeAll()
        _ = waitingForRoom.takeAll()
        close()
        // A stream that was open may have been processed (unless the connection never carried a frame: a failed
        // connect or handshake); one still waiting for a slot never left.
        let neverConnected = !connected
        for channel in open { channel.streamFailed(unprocessed: neverConnected) }
        for channel in queued { channel.streamFailed(unprocessed: true) }
    }

    /// The pool retired: close once no stream is left.
    func retire() {
        detach()
        if streams.isEmpty && waiting.isEmpty { close() }
    }

    private func close() {
        dead = true
        guard registration != .none else { return }
        if let tls {
            tls.closeNotify(fd: registration.fd)
            tls.releaseBlock()
        }
        worker.loop.close(registration)
        registration = .none
    }
}
