import Foundation
import Glibc
import MeshTestSupport

/// A tiny plaintext server on a free 127.0.0.1 port for one connection: it reads the request head (and the body
/// its Content-Length announces), writes `answer` (nothing when nil: a server that accepts and never answers),
/// then closes at once (`closeAfter`) or waits for the client to close first, so only the response's framing
/// can end the client's read.
final class OneShotServer: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var request: [UInt8] = []

    init(answer: [UInt8]?, closeAfter: Bool) throws {
        (listener, port) = try TestSocket.listen()
        let listener = self.listener
        Thread.detachNewThread { [self] in
            defer { done.signal() }
            // Bounded, so a test that fails before connecting does not leave this thread in accept for good.
            var pfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 10_000) > 0 else { return }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            defer { close(client) }
            TestSocket.setTimeouts(client, ms: 5000)
            let received = Self.readRequest(client)
            lock.withLock { request = received }
            guard let answer else { return Self.drain(client) }
            try? TestSocket.writeAll(client, answer)
            if !closeAfter { Self.drain(client) }
        }
    }

    convenience init(_ answer: String, closeAfter: Bool = false) throws {
        try self.init(answer: Array(answer.utf8), closeAfter: closeAfter)
    }

    /// What the client sent, once the connection is over.
    func received() -> String {
        _ = done.wait(timeout: .now() + 10)
        close(listener)
        return lock.withLock { String(decoding: request, as: UTF8.self) }
    }

    /// Waits for the connection to end and closes the listener.
    func stop() { _ = received() }

    private static func readRequest(_ fd: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !isComplete(bytes) {
            guard let n = try? chunk.withUnsafeMutableBytes({ try TestSocket.readSome(fd, $0) }), n > 0 else { break }
            bytes += chunk[0..<n]
        }
        return bytes
    }

    private static func isComplete(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return false }
        let length = text[..<end.lowerBound].split(separator: "\r\n")
            .first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        return text.utf8.distance(from: text.utf8.startIndex, to: end.upperBound) + length <= bytes.count
    }

    /// Reads until the client closes (or the 5 s socket timeout).
    private static func drain(_ fd: Int32) {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while let n = try? chunk.withUnsafeMutableBytes({ try TestSocket.readSome(fd, $0) }), n > 0 {}
    }
}
