import Glibc
import MeshEventLoop
import MeshHTTP1
import MeshPosix
import MeshTLS

/// One `GET` on one connection for `HTTPClient`: connect, write the request, read the response until its
/// framing says it is complete (RFC 9112 §6.3), then close. Confined to the loop's thread.
///
/// Edge-triggered like the gateway's connections, but it reads until EAGAIN or EOF each time: a peer may send
/// its last bytes and FIN in one edge, and a close-delimited body ends only at that EOF.
final class HTTPClientExchange: EventHandler {
    private unowned let client: HTTPClient
    private let target: HTTPTarget
    /// The peer as shown in errors (an address, or host:port while resolving).
    private var label: String
    private let maxBodyBytes: Int
    private var completion: HTTPClient.Completion?
    /// The timeout's timer in `client.timers`.
    var deadline: LoopTimers.ID?

    private var registration = Registration.none
    private var connecting = true
    private var request: [UInt8]
    private var written = 0
    private var received: [UInt8] = []
    private var parser = ResponseParser()
    private let headerFields: UnsafeMutableBufferPointer<HTTPHeaderField>
    private var head: (status: Int, headers: [(name: String, value: String)], framing: BodyFraming)?
    private var chunked = ChunkedDecoder()
    private var body: [UInt8] = []
    /// `https://`: the context to verify the server with; `tls` exists once TCP connected.
    private let tlsContext: TLSClientContext?
    private var tls: TLSStream?
    /// The request, once queued for TLS (encrypted from here as the socket takes it).
    private var outbound = Outbound()
    private var requestQueued = false

    init(
        client: HTTPClient,
        target: HTTPTarget,
        label: String,
        maxBodyBytes: Int,
        tls: TLSClientContext? = nil,
        completion: @escaping HTTPClient.Completion
    ) {
        self.tlsContext = tls
        self.client = client
        self.target = target
        self.label = label
        self.maxBodyBytes = maxBodyBytes
        self.completion = completion
        headerFields = .allocate(capacity: parser.limits.maxHeaderCount)
        headerFields.initialize(repeating: .empty)
        let text =
            "GET \(target.path) HTTP/1.1\r\nHost: \(target.hostHeader)\r\nUser-Agent: meshgate\r\n"
            + "Accept: */*\r\nConnection: close\r\n\r\n"
        request = Array(text.utf8)
    }

    deinit { headerFields.deallocate() }

    // MARK: - Connecting

    /// Opens the non-blocking connection; completion follows through events.
    func connect(to address: SocketAddress) {
        guard completion != nil else { return }
        label = address.description
        do {
            try open(address)
        } catch {
            fail(.connectFailed(address: label, reason: Self.reason(error.errno)))
        }
    }

    private func open(_ address: SocketAddress) throws(SystemError) {
        let fd = try Sockets.stream(family: address.family)
        do {
            registration = try client.loop.register(fd: fd, handler: self)
        } catch {
            Posix.close(fd)
            throw error
        }
        if case .processed = try Posix.connect(registration.fd, address) { connected() }
    }

    private func connected() {
        connecting = false
        guard let context = tlsContext else { return writeRequest() }
        do {
            // The exchange's deadline bounds the handshake; libssl's own is off.
            let connection = try TLSConnection(
                client: context, serverName: target.host, handshakeDeadlineMs: .max)
            tls = TLSStream(connection, pool: client.pool)
        } catch {
            return fail(.connectFailed(address: label, reason: "TLS: \(error)"))
        }
        pumpTLS()
    }

    // MARK: - Events

    func handleEvents(_ events: IOEvents) {
        guard completion != nil else { return }
        if connecting {
            guard !events.intersection([.writable, .error, .hangup]).isEmpty else { return }
            let error = Posix.socketError(registration.fd)
            if error != 0 { return fail(.connectFailed(address: label, reason: Self.reason(error))) }
            connected()
        } else if let tls {
            if !events.intersection([.readable, .readHangup, .hangup, .error]).isEmpty { tls.socketReadable = true }
            if !events.intersection([.readHangup, .hangup, .error]).isEmpty { tls.peerHungUp = true }
            pumpTLS()
            return
        } else if events.contains(.writable) {
            writeRequest()
        }
        if completion != nil, !events.intersection([.readable, .readHangup, .hangup, .error]).isEmpty {
            readAvailable()
        }
    }

    func handleTimer(nowMs: Int64) {}

    private func writeRequest() {
        while completion != nil && written < request.count {
            let result: IOResult<Int>
            do {
                result = try request.withUnsafeBytes { bytes in
                    try Posix.write(registration.fd, bytes.baseAddress! + written, bytes.count - written)
                }
            } catch let error as SystemError {
                return fail(.connectionLost(address: label, reason: Self.reason(error.errno)))
            } catch {
                return fail(.connectionLost(address: label, reason: "write failed"))
            }
            guard case .processed(let count) = result else { return }  // wait for writability
            written += count
        }
    }

    /// The TLS exchange: handshake, then the request (queued once, encrypted as the socket takes it), then the
    /// response, decrypted into `received`.
    private func pumpTLS() {
        guard let tls else { return }
        let scratch = client.pool.take()
        defer { client.pool.give(scratch) }
        let staging = UnsafeMutableRawBufferPointer(start: scratch, count: client.pool.bufferSize)
        var chunk = [UInt8](repeating: 0, count: 16384)
        while completion != nil {
            if tls.connection.isEstablished {
                if !requestQueued {
                    let space = outbound.headSpace(from: client.pool)
                    guard request.count <= space.count else {
                        return fail(.badResponse(address: label, reason: "request head too large"))
                    }
                    space.copyBytes(from: request)
                    outbound.commitHead(request.count)
                    requestQueued = true
                }
                if case .failed(let error) = tls.flush(&outbound, fd: registration.fd) {
                    return fail(.connectionLost(address: label, reason: Self.reason(error.errno)))
                }
            }
            let result = chunk.withUnsafeMutableBytes { buffer in
                tls.read(fd: registration.fd, into: buffer, scratch: staging, nowMs: client.loop.nowMs)
            }
            switch result {
            case .established:
                continue
            case .bytes(let count):
                received.append(contentsOf: chunk[0..<count])
                process()
            case .drained:
                return
            case .eof:
                return endOfStream()
            case .failed(let failure):
                let reason = failure.map { "TLS: \($0)" } ?? "TLS connection failed"
                return fail(.connectionLost(address: label, reason: reason))
            }
        }
    }

    private func readAvailable() {
        var chunk = [UInt8](repeating: 0, count: 16384)
        while completion != nil {
            let result: IOResult<Int>
            do {
                result = try chunk.withUnsafeMutableBytes { try Posix.receive(registration.fd, $0.baseAddress!, $0.count) }
            } catch let error as SystemError {
                return fail(.connectionLost(address: label, reason: Self.reason(error.errno)))
            } catch {
                return fail(.connectionLost(address: label, reason: "read failed"))
            }
            switch result {
            case .wouldBlock:
                return
            case .processed(0):
                return endOfStream()
            case .processed(let count):
                received.append(contentsOf: chunk[0..<count])
                process()
            }
        }
    }

    // MARK: - Parsing

    private func process() {
        if head == nil {
            guard parseHead() else { return }
        }
        guard let head, completion != nil else { return }
        switch head.framing {
        case .none, .contentLength(0):
            succeed()
        case .contentLength(let length):
            let take = min(length - body.count, received.count)
            body.append(contentsOf: received[0..<take])
            received.removeAll(keepingCapacity: true)
            if body.count == length { succeed() }
        case .chunked:
            decodeChunked()
        case .untilClose:
            body.append(contentsOf: received)
            received.removeAll(keepingCapacity: true)
            if body.count > maxBodyBytes { fail(.bodyTooLarge(address: label, limit: maxBodyBytes)) }
        }
    }

    /// Parses the head once complete (skipping 1xx heads); false when more bytes are needed or it failed.
    private func parseHead() -> Bool {
        while true {
            let result = received.withUnsafeBytes { bytes in
                parser.parse(bytes, headers: headerFields, requestMethod: .get)
            }
            switch result {
            case .incomplete:
                return false
            case .invalid(let error):
                fail(.badResponse(address: label, reason: "\(error.reason) in the response head"))
                return false
            case .complete(let parsed):
                let fields = received.withUnsafeBytes { bytes in
                    HTTPHeaderField.strings(headerFields.prefix(parsed.headerCount), in: bytes)
                }
                received.removeFirst(parsed.headLength)
                parser.reset()
                if parsed.isInformational { continue }  // RFC 9110 §15.2: a final response follows
                if case .contentLength(let length) = parsed.framing, length > maxBodyBytes {
                    fail(.bodyTooLarge(address: label, limit: maxBodyBytes))
                    return false
                }
                head = (parsed.status, fields, parsed.framing)
                return true
            }
        }
    }

    private func decodeChunked() {
        var overflow = false
        let scan = received.withUnsafeBytes { bytes in
            chunked.decode(bytes) { data in
                if body.count + data.count > maxBodyBytes { overflow = true } else { body.append(contentsOf: data) }
            }
        }
        received.removeAll(keepingCapacity: true)
        if overflow { return fail(.bodyTooLarge(address: label, limit: maxBodyBytes)) }
        switch scan {
        case .needMore: break
        case .done: succeed()
        case .invalid(let error): fail(.badResponse(address: label, reason: error.reason))
        }
    }

    private func endOfStream() {
        guard let head else {
            let reason =
                received.isEmpty
                ? "the connection was closed without a response"
                : "the connection was closed in the middle of the response head"
            return fail(.badResponse(address: label, reason: reason))
        }
        switch head.framing {
        case .untilClose:
            succeed()
        case .contentLength(let length):
            fail(.badResponse(address: label, reason: "body ended after \(body.count) of \(length) bytes"))
        default:
            fail(.badResponse(address: label, reason: "the connection was closed before the last chunk"))
        }
    }

    // MARK: - Completion

    private func succeed() {
        guard let head else { return }
        finish(.success(HTTPClientResponse(status: head.status, headers: head.headers, body: body)))
    }

    /// Ends the request with `error` (a no-op once it has completed).
    func fail(_ error: HTTPClientError) {
        finish(.failure(error))
    }

    private func finish(_ result: Result<HTTPClientResponse, HTTPClientError>) {
        guard let completion else { return }
        self.completion = nil
        outbound.reset(pool: client.pool)
        tls?.releaseBlock()
        if registration != .none { client.loop.close(registration) }
        registration = .none
        client.finished(self)
        completion(result)
    }

    static func reason(_ errno: Int32) -> String {
        "\(String(cString: strerror(errno))) (errno \(errno))"
    }
}
