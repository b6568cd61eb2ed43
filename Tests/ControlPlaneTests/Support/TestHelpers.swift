import Glibc
import MeshSync

/// A test precondition that failed (setup, not an assertion).
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` every 5 ms until it holds or `timeoutMs` passed (bounded waiting, no fixed sleeps).
func waitUntil(timeoutMs: Int = 5000, _ condition: () -> Bool) -> Bool {
    var start = timespec()
    clock_gettime(CLOCK_MONOTONIC, &start)
    while !condition() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1_000_000
        if elapsed >= timeoutMs { return false }
        usleep(5000)
    }
    return true
}

/// HTTP/1.1 response bytes with a Content-Length body.
func httpResponse(status: Int = 200, reason: String = "OK", body: String, extraHeaders: String = "") -> [UInt8] {
    let bytes = Array(body.utf8)
    return Array("HTTP/1.1 \(status) \(reason)\r\nContent-Length: \(bytes.count)\r\n\(extraHeaders)\r\n".utf8) + bytes
}

/// HTTP/1.1 response bytes with the body in the given chunks.
func chunkedResponse(_ chunks: [String]) -> [UInt8] {
    var text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    for chunk in chunks { text += String(chunk.utf8.count, radix: 16) + "\r\n" + chunk + "\r\n" }
    return Array((text + "0\r\n\r\n").utf8)
}

/// A value shared between a test and its servers' threads.
final class Shared<Value: Sendable>: Sendable {
    private let storage: Locked<Value>
    init(_ value: Value) { storage = Locked(value) }
    var value: Value {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}
