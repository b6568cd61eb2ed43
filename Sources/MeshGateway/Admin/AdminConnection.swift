import Glibc
import MeshEventLoop
import MeshHTTP1
import MeshPosix

/// One admin client connection: HTTP/1.1 keep-alive, one request at a time, bounded head and body.
///
/// Lives on the admin loop's thread only. Not on the request path, so it uses plain arrays. A request body
/// (only `POST /reload` expects one, and ignores it) is skipped up to `maxBodyBytes`; chunked bodies are refused.
/// A connection idle for `idleTimeoutMs` is closed.
final class AdminConnection: EventHandler {
    static let limits = HTTPLimits(maxHeaderBytes: 16 * 1024, maxHeaderCount: 64, maxURIBytes: 4096)
    static let maxBodyBytes = 64 * 1024
    static let idleTimeoutMs: Int64 = 30_000

    private unowned let server: AdminServer
    private var registration = Registration.none
    private var parser = RequestParser(limits: AdminConnection.limits)
    private let headers: UnsafeMutableBufferPointer<HTTPHeaderField>
    private var input: [UInt8] = []
    private var output: [UInt8] = []
    private var written = 0
    private var closeAfterWrite = false
    private var lastActivityMs: Int64
    private var closed = false

    init(server: AdminServer, fd: Int32) throws(SystemError) {
        self.server = server
        headers = .allocate(capacity: Self.limits.maxHeaderCount)
        lastActivityMs = server.loop.nowMs
        registration = try server.loop.register(fd: fd, handler: self)
        server.loop.schedule(registration, atMs: lastActivityMs + Self.idleTimeoutMs)
    }

    deinit { headers.deallocate() }

    func handleEvents(_ events: IOEvents) {
        lastActivityMs = server.loop.nowMs
        if events.contains(.writable), !flush() { return }
        if events.contains(.readable) || events.contains(.readHangup) || events.contains(.hangup) {
            guard readAvailable() else { return }
        }
        process()
    }

    func handleTimer(nowMs: Int64) {
        guard !closed else { return }
        let deadline = lastActivityMs + Self.idleTimeoutMs
        if nowMs >= deadline {
            close()
        } else {
            server.loop.schedule(registration, atMs: deadline)
        }
    }

    /// Reads until EAGAIN (edge-triggered). Returns false when the connection was closed.
    private func readAvailable() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let result: IOResult<Int>
            do {
                result = try chunk.withUnsafeMutableBytes { raw throws(SystemError) in
                    try Posix.receive(registration.fd, raw.baseAddress!, raw.count)
                }
            } catch {
                close()
                return false
            }
            switch result {
            case .wouldBlock:
                return true
            case .processed(0):
                // EOF: answer the request already complete, if any, then close (a half-closed client still reads).
                closeAfterWrite = true
                return true
            case .processed(let n):
                input += chunk[0..<n]
                if input.count > Self.limits.maxHeaderBytes + Self.maxBodyBytes {
                    respondAndClose(AdminRouter.error(413, "payload_too_large"))
                    return false
                }
            }
        }
    }

    /// Answers complete requests while nothing is waiting to be written (one request at a time).
    private func process() {
        while !closed, output.isEmpty {
            guard !input.isEmpty else {
                if closeAfterWrite { close() }
                return
            }
            let parsed = input.withUnsafeBytes { parser.parse($0, headers: headers) }
            switch parsed {
            case .incomplete:
                if closeAfterWrite { close() }
                return
            case .invalid(let error):
                respondAndClose(AdminRouter.error(error.status, "bad_request"))
                return
            case .complete(let head):
                guard handle(head) else { return }
            }
        }
    }

    /// Handles one parsed head; false when the body is not complete yet or the connection is closing.
    private func handle(_ head: RequestHead) -> Bool {
        var bodyLength = 0
        switch head.framing {
        case .contentLength(let n): bodyLength = n
        case .chunked:
            respondAndClose(AdminRouter.error(400, "bad_request"))
            return false
        default: break
        }
        guard bodyLength <= Self.maxBodyBytes else {
            respondAndClose(AdminRouter.error(413, "payload_too_large"))
            return false
        }
        guard input.count >= head.headLength + bodyLength else { return false }
        let start = Int(head.pathStart)
        let path = String(decoding: input[start..<start + Int(head.pathLength)], as: UTF8.self)
        let refusal = server.requestGuard.check(
            method: head.method, host: values("host", head).first, origins: values("origin", head))
        input.removeFirst(head.headLength + bodyLength)
        let response =
            refusal ?? AdminRouter.respond(method: head.method, path: path.isEmpty ? "/" : path, hooks: server.hooks)
        let keepAlive = head.keepAlive && !closeAfterWrite && !server.isStopping
        queue(AdminRouter.serialize(response, keepAlive: keepAlive, headOnly: head.method == .head), close: !keepAlive)
        return !closed
    }

    /// The values of the header `name` (lowercase) in the head at the front of `input`.
    private func values(_ name: String, _ head: RequestHead) -> [String] {
        input.withUnsafeBytes { raw in
            (0..<head.headerCount).compactMap { i -> String? in
                let field = headers[i]
                guard String(decoding: field.name(in: raw), as: UTF8.self).lowercased() == name else { return nil }
                return String(decoding: field.value(in: raw), as: UTF8.self)
            }
        }
    }

    private func respondAndClose(_ response: AdminResponse) {
        input.removeAll()
        queue(AdminRouter.serialize(response, keepAlive: false, headOnly: false), close: true)
    }

    private func queue(_ bytes: [UInt8], close: Bool) {
        output = bytes
        written = 0
        if close { closeAfterWrite = true }
        _ = flush()
    }

    /// Writes pending output; false when the connection was closed.
    private func flush() -> Bool {
        while written < output.count {
            let result: IOResult<Int>
            do {
                result = try output.withUnsafeBytes { raw throws(SystemError) in
                    try Posix.write(registration.fd, raw.baseAddress! + written, raw.count - written)
                }
            } catch {
                close()
                return false
            }
            guard case .processed(let n) = result else { return true }
            written += n
        }
        output.removeAll(keepingCapacity: true)
        written = 0
        if closeAfterWrite {
            close()
            return false
        }
        return true
    }

    func close() {
        guard !closed else { return }
        closed = true
        server.loop.close(registration)
        server.forget(self)
    }
}
