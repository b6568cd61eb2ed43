import Glibc
import MeshEventLoop
import MeshHTTP2
import MeshPosix
import MeshTranscode

/// One h2c connection of a `GRPCClient`: non-blocking connect, the sans-IO client codec, and the calls in
/// flight on it. Everything runs on the loop thread; the loop retains the connection through its registration.
final class GRPCClientConnection: EventHandler {
    /// A call being made.
    struct Call {
        let path: String
        let authority: String
        let message: [UInt8]
        let metadata: [(String, String)]
        let deadlineMs: Int64
        let timeoutMs: Int
        let completion: (Result<[UInt8], GRPCError>) -> Void
        var decoder = GRPCFrameDecoder()
        var messages: [[UInt8]] = []
        /// Request bytes the windows did not take yet.
        var unsent: [UInt8] = []
    }

    private let loop: EventLoop
    private var registration = Registration.none
    private var codec = HTTP2ClientConnection()
    private var calls: [UInt32: Call] = [:]
    private var connected = false
    private var timer = LazyTimer()
    private var events: [HTTP2ClientEvent] = []
    private var outbox: [UInt8] = []
    /// The connection failed or is going away: no new calls (the client opens another connection).
    private(set) var isFinished = false

    init(loop: EventLoop, target: SocketAddress) throws(SystemError) {
        self.loop = loop
        let fd = try Sockets.stream(family: target.family)
        do {
            if case .processed = try Posix.connect(fd, target) { connected = true }
            registration = try loop.register(fd: fd, handler: self)
        } catch {
            Posix.close(fd)
            throw error
        }
    }

    /// Opens the call's stream (queued in the codec until the connect completes) and arms its deadline.
    func start(_ call: Call) {
        var call = call
        var head = HTTP2HeaderList()
        head.append(":method", "POST")
        head.append(":scheme", "http")
        head.append(":authority", call.authority)
        head.append(":path", call.path)
        head.append("content-type", "application/grpc")
        head.append("te", "trailers")
        head.append("grpc-timeout", "\(max(1, call.timeoutMs))m")
        for (name, value) in call.metadata { head.append(name, value) }
        let id: UInt32
        do {
            id = try codec.openStream(head: head, endStream: false)
        } catch {
            isFinished = true
            return call.completion(.failure(GRPCError(.unavailable, "cannot open a stream: \(error)")))
        }
        call.unsent = GRPCFrames.encode(call.message)
        calls[id] = call
        send(id)
        timer.set(min(timer.deadlineMs, call.deadlineMs), loop: loop, registration: registration)
        flush()
    }

    /// Writes what the windows allow of a call's request, ending the stream with the last byte.
    private func send(_ id: UInt32) {
        guard var call = calls[id], !call.unsent.isEmpty else { return }
        guard let taken = try? codec.writeData(streamID: id, call.unsent, endStream: true) else { return }
        call.unsent.removeFirst(taken)
        calls[id] = call
    }

    // MARK: - Events

    func handleEvents(_ events: IOEvents) {
        guard !isClosed else { return }
        if !connected && !events.intersection([.writable, .error, .hangup]).isEmpty {
            let error = Posix.socketError(registration.fd)
            guard error == 0 else {
                return fail(GRPCError(.unavailable, "connect: \(String(cString: strerror(error)))"))
            }
            connected = true
        }
        if events.contains(.writable) { flush() }
        if !events.intersection([.readable, .readHangup, .hangup, .error]).isEmpty { readAll() }
    }

    func handleTimer(nowMs: Int64) {
        guard !isClosed, timer.fired(nowMs: nowMs, loop: loop, registration: registration) else { return }
        var next = Int64.max
        for (id, call) in calls {
            if call.deadlineMs <= nowMs {
                codec.resetStream(streamID: id, code: .cancel)
                complete(id, .failure(GRPCError(.deadlineExceeded, "no answer within \(call.timeoutMs) ms")))
            } else {
                next = min(next, call.deadlineMs)
            }
        }
        if next != .max { timer.set(next, loop: loop, registration: registration) }
        flush()
    }

    private var isClosed: Bool { registration == .none }

    private func readAll() {
        var buffer = [UInt8](repeating: 0, count: 16384)
        while !isClosed {
            let result = buffer.withUnsafeMutableBytes { raw in
                Result { () throws(SystemError) -> IOResult<Int> in
                    try Posix.read(registration.fd, raw.baseAddress!, raw.count)
                }
            }
            guard case .success(let read) = result else {
                return fail(GRPCError(.unavailable, "connection to the sidecar failed"))
            }
            guard case .processed(let count) = read else { break }
            if count == 0 { return fail(GRPCError(.unavailable, "the sidecar closed the connection")) }
            buffer.withUnsafeBytes { raw in
                codec.feed(UnsafeRawBufferPointer(rebasing: raw[0..<count]), now: Self.nowNs, into: &events)
            }
            let batch = events
            events.removeAll(keepingCapacity: true)
            for event in batch { handle(event) }
        }
        flush()
    }

    private static var nowNs: UInt64 { UInt64(max(0, WallClock.monotonicNanoseconds())) }

    private func handle(_ event: HTTP2ClientEvent) {
        switch event {
        case .response(let id, let head, let endStream):
            guard head.status == 200 else {
                let code = GRPCHTTPStatus.code(head.status)
                return complete(id, .failure(GRPCError(code, "HTTP status \(head.status)")))
            }
            // Trailers-Only: the status is in the head.
            if endStream { complete(id, status(head.fields)) }
        case .data(let id, let bytes, let endStream):
            codec.consumed(streamID: id, bytes: bytes.count)
            guard var call = calls[id] else { return }
            do {
                call.messages += try call.decoder.feed(bytes)
                calls[id] = call
            } catch {
                codec.resetStream(streamID: id, code: .cancel)
                complete(id, .failure(GRPCError(.internal, error.description)))
            }
            // A gRPC answer ends with trailers; one that ends with DATA has no status (a proxy's error page).
            if endStream { complete(id, .failure(GRPCError(.internal, "the answer ended without grpc-status"))) }
        case .trailers(let id, let fields):
            complete(id, status(fields))
        case .streamReset(let id, let code, _), .streamFailed(let id, let code, _):
            complete(id, .failure(GRPCError(.unavailable, "stream reset: \(code)")))
        case .goAway(_, _, let unprocessed):
            isFinished = true
            for id in unprocessed { complete(id, .failure(GRPCError(.unavailable, "the sidecar is going away"))) }
        case .windowOpened(let id):
            for key in id == 0 ? Array(calls.keys) : [id] { send(key) }
        case .connectionError(let code, let reason):
            fail(GRPCError(.unavailable, "HTTP/2 connection error \(code): \(reason)"))
        case .streamLimitChanged, .pingAcknowledged:
            break
        }
    }

    /// The call's outcome from its trailers (or Trailers-Only head) and the message it got.
    private func status(_ fields: HTTP2HeaderList) -> Result<[UInt8], GRPCError>? {
        let code = GRPCStatusCode(grpcStatus: fields.first("grpc-status").map { String(decoding: $0, as: UTF8.self) })
        guard code == .ok else {
            let message = fields.first("grpc-message").map { String(decoding: $0, as: UTF8.self) } ?? ""
            return .failure(GRPCError(code, GRPCMessageText.decode(message)))
        }
        return nil
    }

    /// Ends a call with `outcome`, or — `nil`: status OK — with its one message.
    private func complete(_ id: UInt32, _ outcome: Result<[UInt8], GRPCError>?) {
        guard let call = calls.removeValue(forKey: id) else { return }
        if let outcome { return call.completion(outcome) }
        guard call.messages.count == 1 else {
            return call.completion(
                .failure(GRPCError(.internal, "a unary answer needs one message, got \(call.messages.count)")))
        }
        call.completion(.success(call.messages[0]))
    }

    // MARK: - Output and failure

    private func flush() {
        guard connected, !isClosed else { return }
        outbox += codec.takeOutbound()
        var written = 0
        while written < outbox.count {
            let result = outbox.withUnsafeBytes { raw in
                Result { () throws(SystemError) -> IOResult<Int> in
                    try Posix.write(registration.fd, raw.baseAddress! + written, raw.count - written)
                }
            }
            guard case .success(let outcome) = result else {
                outbox.removeAll()
                return fail(GRPCError(.unavailable, "connection to the sidecar failed"))
            }
            guard case .processed(let n) = outcome else { break }
            written += n
        }
        outbox.removeFirst(written)
        if codec.isClosed && outbox.isEmpty { fail(GRPCError(.unavailable, "HTTP/2 connection closed")) }
    }

    /// Ends the connection: every call in flight fails with `error`.
    private func fail(_ error: GRPCError) {
        guard !isClosed else { return }
        isFinished = true
        loop.close(registration)
        registration = .none
        let failed = calls
        calls.removeAll()
        for (_, call) in failed.sorted(by: { $0.key < $1.key }) { call.completion(.failure(error)) }
    }
}
