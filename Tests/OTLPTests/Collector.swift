import Glibc
import MeshPosix
import MeshSync
import Synchronization

/// A stand-in OTLP collector: a thread serving HTTP/1.1 on 127.0.0.1:0 that records every POST body.
///
/// `.accept` answers 200 `{}`, `.reject(status)` answers that status, `.silent` reads the request and never
/// answers (connections stay open until `stop()`), which is how a hung collector looks to the exporter.
final class Collector: @unchecked Sendable {
    enum Mode: Sendable {
        case accept
        case reject(Int)
        case silent
    }

    let port: UInt16
    private let listener: Int32
    private let mode: Mode
    private let bodies = Locked<[[UInt8]]>([])
    private let stopping = Atomic<Bool>(false)
    private var thread = pthread_t()
    private var held: [Int32] = []

    init(_ mode: Mode = .accept) throws {
        self.mode = mode
        listener = try Sockets.listener(SocketAddress(numericHost: "127.0.0.1", port: 0)!, reusePort: false)
        port = Posix.localAddress(listener)!.port
        let unmanaged = Unmanaged.passRetained(self)
        pthread_create(
            &thread, nil,
            { arg in
                let this = Unmanaged<Collector>.fromOpaque(arg!).takeRetainedValue()
                this.serve()
                return nil
            }, unmanaged.toOpaque())
    }

    /// `http://127.0.0.1:<port>/v1/traces`.
    var url: String { "http://127.0.0.1:\(port)/v1/traces" }

    /// The bodies received so far, in order.
    var received: [[UInt8]] { bodies.withLock { $0 } }

    /// Waits (polling every 10 ms, at most `seconds`) until `condition` holds; returns whether it did.
    static func eventually(seconds: Int = 15, _ condition: () -> Bool) -> Bool {
        for _ in 0..<(seconds * 100) {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    func stop() {
        stopping.store(true, ordering: .releasing)
        pthread_join(thread, nil)
        for fd in held { Posix.close(fd) }
        Posix.close(listener)
    }

    private func serve() {
        while !stopping.load(ordering: .acquiring) {
            var pfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 20) > 0, case .processed(let fd)? = try? Posix.accept(listener, nil) else { continue }
            guard let body = readRequest(fd) else {
                Posix.close(fd)
                continue
            }
            bodies.withLock { $0.append(body) }
            switch mode {
            case .accept: respond(fd, "200 OK")
            case .reject(let status): respond(fd, "\(status) Nope")
            case .silent:
                held.append(fd)
                continue
            }
            Posix.close(fd)
        }
    }

    private func respond(_ fd: Int32, _ status: String) {
        let text = "HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        _ = Array(text.utf8).withUnsafeBytes { send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads one request head and its Content-Length body; nil on EOF, stop or malformed input.
    private func readRequest(_ fd: Int32) -> [UInt8]? {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !stopping.load(ordering: .acquiring) {
            if let (headEnd, length) = Self.head(bytes), bytes.count >= headEnd + length {
                let head = String(decoding: bytes[..<headEnd], as: UTF8.self)
                guard head.hasPrefix("POST /v1/traces HTTP/1.1\r\n"),
                    head.lowercased().contains("content-type: application/json")
                else { return nil }
                return Array(bytes[headEnd..<(headEnd + length)])
            }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 20) >= 0 else { return nil }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n == 0 { return nil }
            if n > 0 { bytes.append(contentsOf: buffer[0..<n]) }
        }
        return nil
    }

    /// The head's length (blank line included) and Content-Length once the head is complete.
    private static func head(_ bytes: [UInt8]) -> (Int, Int)? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i..<(i + 4)].elementsEqual([13, 10, 13, 10]) {
            let head = String(decoding: bytes[..<i], as: UTF8.self).lowercased()
            guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
                let length = Int(line.dropFirst("content-length:".count).trimmingCharacters())
            else { return nil }
            return (i + 4, length)
        }
        return nil
    }
}

extension Substring {
    fileprivate func trimmingCharacters() -> Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
