import CLinux
import Glibc
import MeshPosix
import MeshTLS

/// One non-blocking socket to the collector whose every wait is a `poll` bounded by what is left of one deadline
/// (CLOCK_MONOTONIC ms), for `OTLPPoster` on the exporter thread. The caller owns and closes `fd`.
public struct OTLPSocket {
    public let fd: Int32
    /// When the whole request must be done (CLOCK_MONOTONIC ms).
    public let deadline: Int64
    /// The bound `deadline` came from, for the error text.
    public let timeoutMs: Int

    public static func nowMs() -> Int64 { clinux_monotonic_ns() / 1_000_000 }

    /// Waits for `events` on `fd` until the deadline.
    public func wait(_ events: Int32) throws(OTLPExportError) {
        while true {
            let left = deadline - Self.nowMs()
            guard left > 0 else { throw .timeout(ms: timeoutMs) }
            var pfd = pollfd(fd: fd, events: Int16(events), revents: 0)
            let ready = poll(&pfd, 1, Int32(min(left, 1000)))
            if ready > 0 { return }
            if ready < 0, errno != EINTR { throw .system(SystemError(errno: errno, call: "poll")) }
        }
    }

    public func connect(_ address: SocketAddress) throws(OTLPExportError) {
        do {
            if case .processed = try Posix.connect(fd, address) { return }
        } catch {
            throw .system(error)
        }
        try wait(POLLOUT)
        let err = Posix.socketError(fd)
        if err != 0 { throw .system(SystemError(errno: err, call: "connect")) }
    }

    /// Sends every byte of `bytes`.
    public func send(_ bytes: UnsafeRawBufferPointer) throws(OTLPExportError) {
        var offset = 0
        while offset < bytes.count {
            // send(2) with MSG_NOSIGNAL: a collector that closed early must be an error here, not a SIGPIPE
            // that kills the process (tests and tools do not ignore SIGPIPE the way the gateway does).
            let n = Glibc.send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if n >= 0 {
                offset += n
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                try wait(POLLOUT)
            } else if errno != EINTR {
                throw .system(SystemError(errno: errno, call: "send"))
            }
        }
    }

    /// Sends every byte of `bytes`.
    public func send(_ bytes: [UInt8]) throws(OTLPExportError) {
        // Array's `withUnsafeBytes` rethrows untyped: the typed error goes through a Result.
        try bytes.withUnsafeBytes { raw in Result { () throws(OTLPExportError) in try send(raw) } }.get()
    }

    /// Reads what is there, waiting for at least one byte; 0 at EOF.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws(OTLPExportError) -> Int {
        while true {
            let result: IOResult<Int>
            do {
                result = try Posix.read(fd, buffer.baseAddress!, buffer.count)
            } catch {
                throw .system(error)
            }
            switch result {
            case .wouldBlock: try wait(POLLIN)
            case .processed(let n): return n
            }
        }
    }
}

/// TLS to an `https://` collector over an `OTLPSocket`: MeshTLS's sans-IO `TLSConnection` is fed what the socket
/// reads and its ciphertext is sent to the socket, so every wait, the handshake's included, is bounded by the
/// socket's one deadline. The certificate is verified by libssl against the context's CAs and `serverName`
/// (SPEC §9: a DNS name, also sent as SNI, or an IP literal that must be an IP SAN). No crypto here.
public final class OTLPTLSChannel {
    private let socket: OTLPSocket
    private let connection: TLSConnection
    /// Ciphertext in both directions passes through this buffer (one TLS record's worth).
    private var buffer = [UInt8](repeating: 0, count: 17 * 1024)
    /// The socket reached EOF (told to libssl).
    private var ended = false

    public init(_ socket: OTLPSocket, context: TLSClientContext, serverName: String) throws(OTLPExportError) {
        self.socket = socket
        do {
            connection = try TLSConnection(
                client: context, serverName: serverName, handshakeDeadlineMs: socket.deadline)
        } catch {
            throw .tls("\(error)")
        }
    }

    /// Runs the handshake to completion; a certificate that does not verify fails here with libssl's reason.
    public func handshake() throws(OTLPExportError) {
        while true {
            switch connection.handshake(nowMs: OTLPSocket.nowMs()) {
            case .done:
                return try flush()  // TLS 1.2's Finished (1.3 may queue nothing)
            case .wantsWrite:
                try flush()
            case .needMoreInput:
                try flush()
                guard !ended else { throw .tls(TLSFailure.closedByPeer.description) }
                try fill()
            case .failed(let failure):
                try? flush()  // the alert, best effort
                if failure == .handshakeTimeout { throw .timeout(ms: socket.timeoutMs) }
                throw .tls(failure.description)
            }
        }
    }

    /// Encrypts all of `plaintext` and sends it.
    public func send(_ plaintext: [UInt8]) throws(OTLPExportError) {
        if let failure = plaintext.withUnsafeBytes({ connection.write($0) }) { throw .tls(failure.description) }
        try flush()
    }

    /// Decrypts what is there into `into`, reading the socket while libssl needs more; 0 at the end of the stream
    /// (close_notify, or the socket's EOF: HTTP framing, not TLS, says whether the response was complete, as for
    /// any TLS peer that closes without close_notify).
    public func receive(into plaintext: UnsafeMutableRawBufferPointer) throws(OTLPExportError) -> Int {
        while true {
            switch connection.read(into: plaintext) {
            case .bytes(let n):
                return n
            case .closed:
                return 0
            case .failed(let failure):
                if ended { return 0 }
                throw .tls(failure.description)
            case .needMoreInput:
                try flush()  // a post-handshake message (key update) may want an answer
                if ended { return 0 }
                try fill()
            }
        }
    }

    /// Sends every queued byte of ciphertext.
    private func flush() throws(OTLPExportError) {
        while connection.pendingCiphertextCount > 0 {
            let count = buffer.withUnsafeMutableBytes { connection.takeCiphertext(into: $0) }
            // (Array's `withUnsafeBytes` rethrows untyped: the typed error goes through a Result.)
            try buffer.withUnsafeBytes { bytes in
                Result { () throws(OTLPExportError) in
                    try socket.send(UnsafeRawBufferPointer(rebasing: bytes[0..<count]))
                }
            }.get()
        }
    }

    /// Reads ciphertext from the socket (waiting within the deadline) into the connection.
    private func fill() throws(OTLPExportError) {
        let n = try buffer.withUnsafeMutableBytes { bytes in
            Result { () throws(OTLPExportError) in try socket.receive(into: bytes) }
        }.get()
        if n == 0 {
            ended = true
            connection.feedEndOfInput()
        } else {
            buffer.withUnsafeBytes { connection.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }
}
