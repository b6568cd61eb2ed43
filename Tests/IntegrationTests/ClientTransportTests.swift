import Glibc
import MeshEventLoop
import MeshPosix
import Testing

@testable import MeshGateway

/// The client side of a downstream connection over a real socket pair: what a read and a flush report, and
/// the readiness they leave behind (edge-triggered: a short read means drained).
@Suite struct ClientTransportTests {
    private func pair() throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        let type = Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
        try #require(socketpair(AF_UNIX, type, 0, &fds) == 0)
        return (fds[0], fds[1])
    }

    @Test func aShortReadTakesTheBytesAndMeansDrained() throws {
        let (ours, theirs) = try pair()
        defer { close(ours); close(theirs) }
        let pool = BufferPool(bufferSize: 1024)
        var transport = ClientTransport(tls: nil, pipe: nil, bridgedTLS: nil)
        transport.note(.readable)
        #expect(write(theirs, "GET / HTTP/1.1\r\n\r\n", 18) == 18)
        #expect(transport.read(fd: ours, pool: pool, nowMs: 0) == .data)
        #expect(Array(transport.buffer.readable) == Array("GET / HTTP/1.1\r\n\r\n".utf8))
        #expect(!transport.readable)
        transport.note(.readable)
        #expect(transport.read(fd: ours, pool: pool, nowMs: 0) == .drained)
        transport.close(fd: ours, pool: pool)
    }

    @Test func theClientsFinIsTheEndAndIsRemembered() throws {
        let (ours, theirs) = try pair()
        defer { close(ours) }
        let pool = BufferPool(bufferSize: 1024)
        var transport = ClientTransport(tls: nil, pipe: nil, bridgedTLS: nil)
        #expect(write(theirs, "x", 1) == 1)
        close(theirs)
        transport.note([.readable, .readHangup])
        #expect(transport.peerClosed)
        // The FIN came with the data: a short read does not mean drained, the end is read too.
        #expect(transport.read(fd: ours, pool: pool, nowMs: 0) == .data)
        #expect(transport.readable)
        #expect(transport.read(fd: ours, pool: pool, nowMs: 0) == .eof)
        transport.close(fd: ours, pool: pool)
    }

    @Test func aFlushTheSocketRefusesIsBlockedUntilWritableAgain() throws {
        let (ours, theirs) = try pair()
        defer { close(ours); close(theirs) }
        let pool = BufferPool(bufferSize: 64 * 1024)
        var transport = ClientTransport(tls: nil, pipe: nil, bridgedTLS: nil)
        let body = [UInt8](repeating: 7, count: 4 * 1024 * 1024)
        body.withUnsafeBytes { transport.out.queueBody($0) }
        guard case .blocked = transport.flush(fd: ours, pool: pool) else {
            Issue.record("4 MiB fit a socket pair's buffer")
            return
        }
        #expect(!transport.writable && transport.hasOutput)
        guard case .blocked = transport.flush(fd: ours, pool: pool) else {
            Issue.record("a flush without a writable event must not write")
            return
        }
        transport.out.reset(pool: pool)
        #expect(!transport.hasOutput)
        transport.note(.writable)
        guard case .done = transport.flush(fd: ours, pool: pool) else {
            Issue.record("nothing left to write")
            return
        }
        transport.close(fd: ours, pool: pool)
    }
}
