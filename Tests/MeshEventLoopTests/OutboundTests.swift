import Glibc
import MeshEventLoop
import MeshPosix
import Testing

@Suite struct OutboundTests {
    /// A connected non-blocking socket pair with a small send buffer, so writes really come out partial.
    func socketPair() throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        let type = Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
        #expect(socketpair(AF_UNIX, type, 0, &fds) == 0)
        var size: Int32 = 4096
        setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        return (fds[0], fds[1])
    }

    func drain(_ fd: Int32, into received: inout [UInt8]) {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n <= 0 { return }
            received.append(contentsOf: chunk[0..<n])
        }
    }

    /// Head and body leave in order through partial writes and `.blocked`, and nothing is lost.
    @Test func headAndBodyArriveWholeThroughPartialWrites() throws {
        let (writer, reader) = try socketPair()
        defer { close(writer); close(reader) }
        let pool = BufferPool(bufferSize: 1024)
        var outbound = Outbound()
        let head = Array("HTTP/1.1 200 OK\r\ncontent-length: 200000\r\n\r\n".utf8)
        let body = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 % 251) }
        let space = outbound.headSpace(from: pool)
        head.withUnsafeBytes { space.copyMemory(from: $0) }
        outbound.commitHead(head.count)
        var received: [UInt8] = []
        var blockedCount = 0
        try body.withUnsafeBytes { bytes in
            outbound.queueBody(bytes)
            for _ in 0..<10_000 {
                switch outbound.flush(writer, pool: pool) {
                case .done: return
                case .blocked: blockedCount += 1
                case .failed(let error): throw error
                }
                drain(reader, into: &received)
            }
        }
        drain(reader, into: &received)
        #expect(outbound.isEmpty)
        #expect(blockedCount > 0, "the small send buffer should have forced partial writes")
        #expect(received == head + body)
    }
}
