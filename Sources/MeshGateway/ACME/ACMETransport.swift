import Glibc
import MeshACME
import MeshPosix
import MeshTLS

/// One blocking HTTPS exchange for the ACME client, on its own control-plane thread (never a worker): connect,
/// TLS verified against the listener's `ca_file` (or the system store), one request, the response read until the
/// server closes. Every failure is an `ACMEProblem` of type `meshgate:connection`.
enum ACMETransport {
    static let timeoutSeconds = 15

    static func exchange(_ request: ACMERequest, tls: TLSClientContext) throws(ACMEProblem) -> ACMEResponse {
        guard let target = ACMEWire.parse(url: request.url) else {
            throw problem(request.url, "not an https:// URL")
        }
        let addresses: [SocketAddress]
        do {
            addresses = try SocketAddress.resolve(host: target.host, port: target.port)
        } catch {
            throw problem(request.url, "\(error)")
        }
        guard let address = addresses.first else { throw problem(request.url, "no address for \(target.host)") }
        let fd = try connect(address, url: request.url)
        defer { close(fd) }
        let connection: TLSConnection
        do {
            connection = try TLSConnection(client: tls, serverName: target.host, handshakeDeadlineMs: .max)
        } catch {
            throw problem(request.url, "TLS: \(error)")
        }
        var stream = Stream(fd: fd, tls: connection, url: request.url)
        try stream.handshake()
        try stream.send(ACMEWire.serialize(request, target: target))
        let bytes = try stream.readAll()
        guard let response = ACMEWire.parseResponse(bytes, headRequest: request.method == "HEAD") else {
            throw problem(request.url, "malformed HTTP response (\(bytes.count) bytes)")
        }
        return response
    }

    private static func connect(_ address: SocketAddress, url: String) throws(ACMEProblem) -> Int32 {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw problem(url, "socket: \(String(cString: strerror(errno)))") }
        // Blocking I/O bounded by socket timeouts (connect honours SO_SNDTIMEO on Linux).
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var storage = address.storage
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, address.length) }
        }
        guard rc == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw problem(url, "connect \(address): \(reason)")
        }
        return fd
    }

    static func problem(_ url: String, _ detail: String) -> ACMEProblem {
        ACMEProblem(type: "meshgate:connection", detail: "\(url): \(detail)")
    }

    /// Ciphertext pumped between a blocking socket and a `TLSConnection`.
    struct Stream {
        let fd: Int32
        let tls: TLSConnection
        let url: String
        var scratch = [UInt8](repeating: 0, count: 16 * 1024)

        init(fd: Int32, tls: TLSConnection, url: String) {
            self.fd = fd
            self.tls = tls
            self.url = url
        }

        mutating func handshake() throws(ACMEProblem) {
            while true {
                switch tls.handshake(nowMs: 0) {
                case .done:
                    try flush()
                    return
                case .wantsWrite: try flush()
                case .needMoreInput:
                    try flush()
                    guard try readSocket() else { throw problem(url, "TLS: closed during the handshake") }
                case .failed(let failure): throw problem(url, "TLS: \(failure)")
                }
            }
        }

        mutating func send(_ plaintext: [UInt8]) throws(ACMEProblem) {
            if let failure = plaintext.withUnsafeBytes({ tls.write($0) }) { throw problem(url, "TLS: \(failure)") }
            try flush()
        }

        /// Plaintext until close_notify or the socket's EOF.
        mutating func readAll() throws(ACMEProblem) -> [UInt8] {
            var plaintext: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let result = buffer.withUnsafeMutableBytes { tls.read(into: $0) }
                switch result {
                case .bytes(let count):
                    plaintext += buffer[0..<count]
                    guard plaintext.count <= 4 << 20 else { throw problem(url, "response over 4 MiB") }
                case .needMoreInput:
                    try flush()
                    if !(try readSocket()) { tls.feedEndOfInput() }
                case .closed: return plaintext
                case .failed(let failure):
                    // A server that closes without close_notify after a complete response: keep what came.
                    if !plaintext.isEmpty { return plaintext }
                    throw problem(url, "TLS: \(failure)")
                }
            }
        }

        /// False at EOF.
        private mutating func readSocket() throws(ACMEProblem) -> Bool {
            while true {
                let count = scratch.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count >= 0 else { throw problem(url, "read: \(String(cString: strerror(errno)))") }
                if count == 0 { return false }
                scratch.withUnsafeBytes { tls.feed(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                return true
            }
        }

        private func flush() throws(ACMEProblem) {
            while tls.pendingCiphertextCount > 0 {
                let bytes = tls.takeCiphertext()
                var offset = 0
                while offset < bytes.count {
                    let written = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
                    if written < 0 && errno == EINTR { continue }
                    guard written > 0 else { throw problem(url, "write: \(String(cString: strerror(errno)))") }
                    offset += written
                }
            }
        }
    }
}
