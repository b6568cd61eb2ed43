import MeshTLS

/// TLS over a `DeadlineSocket`: MeshTLS's sans-IO `TLSConnection` is fed what the socket reads and its ciphertext
/// is sent to the socket, so every wait, the handshake's included, is bounded by the socket's one deadline. The
/// certificate is verified by libssl against the context's CAs (a CA file or the system store) and `serverName`
/// (a DNS name, also sent as SNI, or an IP literal that must be an IP SAN). No crypto here.
final class DeadlineTLSChannel: ByteChannel {
    private let socket: DeadlineSocket
    private let connection: TLSConnection
    /// Ciphertext in both directions passes through this buffer (one TLS record's worth).
    private var buffer = [UInt8](repeating: 0, count: 17 * 1024)
    /// The socket reached EOF (told to libssl).
    private var ended = false

    init(_ socket: DeadlineSocket, context: TLSClientContext, serverName: String) throws(BlockingHTTPError) {
        self.socket = socket
        do {
            connection = try TLSConnection(
                client: context, serverName: serverName, handshakeDeadlineMs: socket.deadline)
        } catch {
            throw .tls("\(error)")
        }
    }

    /// Runs the handshake to completion; a certificate that does not verify fails here with libssl's reason.
    func handshake() throws(BlockingHTTPError) {
        while true {
            switch connection.handshake(nowMs: DeadlineSocket.nowMs()) {
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
    func send(_ plaintext: [UInt8]) throws(BlockingHTTPError) {
        if let failure = plaintext.withUnsafeBytes({ connection.write($0) }) { throw .tls(failure.description) }
        try flush()
    }

    /// Decrypts what is there into `plaintext`, reading the socket while libssl needs more; 0 at the end of the
    /// stream (close_notify, or the socket's EOF: HTTP framing, not TLS, says whether the response was complete,
    /// as for any TLS peer that closes without close_notify).
    func receive(into plaintext: UnsafeMutableRawBufferPointer) throws(BlockingHTTPError) -> Int {
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
    private func flush() throws(BlockingHTTPError) {
        while connection.pendingCiphertextCount > 0 {
            let count = buffer.withUnsafeMutableBytes { connection.takeCiphertext(into: $0) }
            // (Array's `withUnsafeBytes` rethrows untyped: the typed error goes through a Result.)
            try buffer.withUnsafeBytes { bytes in
                Result { () throws(BlockingHTTPError) in
                    try socket.send(UnsafeRawBufferPointer(rebasing: bytes[0..<count]))
                }
            }.get()
        }
    }

    /// Reads ciphertext from the socket (waiting within the deadline) into the connection.
    private func fill() throws(BlockingHTTPError) {
        let n = try buffer.withUnsafeMutableBytes { bytes in
            Result { () throws(BlockingHTTPError) in try socket.receive(into: bytes) }
        }.get()
        if n == 0 {
            ended = true
            connection.feedEndOfInput()
        } else {
            buffer.withUnsafeBytes { connection.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }
}
