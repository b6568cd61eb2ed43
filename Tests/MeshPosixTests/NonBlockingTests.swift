import Glibc
import MeshPosix
import Testing

/// `Posix.writev` of `data` cut into `segments` equal iovecs (the last takes the remainder).
func funnelWritev(_ fd: Int32, _ data: [UInt8], segments: Int) throws -> IOResult<Int> {
    try data.withUnsafeBytes { raw in
        let size = raw.count / segments
        var iov = (0..<segments).map { index in
            let start = index * size
            let count = index == segments - 1 ? raw.count - start : size
            return iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress! + start), iov_len: count)
        }
        return try Posix.writev(fd, &iov, Int32(segments))
    }
}

/// One read of at most `max` bytes through the funnel's `call` (`Posix.read`, or `Posix.receive` for sockets).
func funnelRead(
    _ fd: Int32, max: Int = 4096,
    call: (Int32, UnsafeMutableRawPointer, Int) throws -> IOResult<Int> = { try Posix.read($0, $1, $2) }
) throws -> IOResult<[UInt8]> {
    var buffer = [UInt8](repeating: 0, count: max)
    let result = try buffer.withUnsafeMutableBytes { try call(fd, $0.baseAddress!, $0.count) }
    guard case .processed(let n) = result else { return .wouldBlock }
    return .processed(Array(buffer[0..<n]))
}

func funnelReceive(_ fd: Int32, max: Int = 4096) throws -> IOResult<[UInt8]> {
    try funnelRead(fd, max: max) { try Posix.receive($0, $1, $2) }
}

extension IOResult {
    var isWouldBlock: Bool { if case .wouldBlock = self { true } else { false } }
    var value: Value? { if case .processed(let value) = self { value } else { nil } }
}

@Suite struct NonBlockingTests {
    @Test func emptyPipeReadWouldBlockUntilDataArrives() throws {
        let pipe = try Fixture.pipe(nonBlocking: true)
        defer {
            Glibc.close(pipe.read)
            Glibc.close(pipe.write)
        }
        #expect(try funnelRead(pipe.read).isWouldBlock)
        #expect(Glibc.write(pipe.write, "abc", 3) == 3)
        #expect(try funnelRead(pipe.read).value == Array("abc".utf8))
        #expect(try funnelRead(pipe.read).isWouldBlock)
    }

    @Test func emptySocketReadWouldBlock() throws {
        let (a, b) = try Fixture.socketPair()
        defer {
            Glibc.close(a)
            Glibc.close(b)
        }
        #expect(try funnelRead(a).isWouldBlock)
        #expect(try Posix.write(b, "ping", 4).value == 4)
        #expect(try funnelRead(a).value == Array("ping".utf8))
    }

    /// `receive` answers on a socket exactly as `read` does (the proxy's sockets read through it), and is for
    /// sockets only.
    @Test func receiveIsReadForSockets() throws {
        let (a, b) = try Fixture.socketPair()
        defer {
            Glibc.close(a)
            Glibc.close(b)
        }
        #expect(try funnelReceive(a).isWouldBlock)
        #expect(try Posix.write(b, "ping", 4).value == 4)
        #expect(try funnelReceive(a, max: 2).value == Array("pi".utf8))
        #expect(try funnelReceive(a).value == Array("ng".utf8))
        Posix.shutdownWrite(b)
        #expect(try funnelReceive(a).value == [])
        let pipe = try Fixture.pipe(nonBlocking: true)
        defer {
            Glibc.close(pipe.read)
            Glibc.close(pipe.write)
        }
        #expect(throws: SystemError(errno: ENOTSOCK, call: "recv")) { try funnelReceive(pipe.read) }
    }

    /// End of stream is `.processed(0)`, never `.wouldBlock`: the proxy tells "closed" from "not yet" by it.
    @Test func readAtEndOfStreamReturnsZero() throws {
        let pipe = try Fixture.pipe(nonBlocking: true)
        Glibc.close(pipe.write)
        defer { Glibc.close(pipe.read) }
        #expect(try funnelRead(pipe.read).value == [])

        let (a, b) = try Fixture.socketPair()
        defer {
            Glibc.close(a)
            Glibc.close(b)
        }
        #expect(try Posix.write(b, "bye", 3).value == 3)
        Posix.shutdownWrite(b)
        #expect(try funnelRead(a).value == Array("bye".utf8))
        #expect(try funnelRead(a).value == [])
    }

    /// A pipe filled until the kernel refuses gives `.wouldBlock`, and every byte counted as written is
    /// there to read, in order.
    @Test func fullPipeWriteWouldBlock() throws {
        let pipe = try Fixture.pipe(nonBlocking: true)
        defer {
            Glibc.close(pipe.read)
            Glibc.close(pipe.write)
        }
        var written: [UInt8] = []
        var blocked = false
        // 4,096 rounds of 4 KiB is 16 MiB, far past any default pipe capacity (64 KiB).
        for round in 0..<4096 {
            let chunk = Fixture.pattern(4096, seed: round)
            let result = try funnelWritev(pipe.write, chunk, segments: 2)
            guard let n = result.value else {
                blocked = true
                break
            }
            written += chunk[0..<n]
        }
        #expect(blocked)
        #expect(!written.isEmpty)
        #expect(try Fixture.drain(pipe.read) == written)
        #expect(try funnelWritev(pipe.write, [1, 2, 3], segments: 1).value == 3)
    }

    @Test func fullSocketWriteWouldBlock() throws {
        let (a, b) = try Fixture.socketPair()
        defer {
            Glibc.close(a)
            Glibc.close(b)
        }
        let chunk = Fixture.pattern(65536)
        var total = 0
        var blocked = false
        for _ in 0..<1024 {
            guard let n = try chunk.withUnsafeBytes({ try Posix.write(a, $0.baseAddress!, $0.count) }).value else {
                blocked = true
                break
            }
            total += n
        }
        #expect(blocked)
        #expect(total > 0)
        #expect(try Fixture.drain(b).count == total)
    }

    @Test func writevSendsEverySegmentInOrder() throws {
        let (a, b) = try Fixture.socketPair()
        defer {
            Glibc.close(a)
            Glibc.close(b)
        }
        let data = Array("GET /profile HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        #expect(try funnelWritev(a, data, segments: 5).value == data.count)
        #expect(try Fixture.drain(b) == data)
    }

    /// More than the send buffer holds: writev takes a prefix (possibly ending mid-segment), reports its
    /// length, and the next call is `.wouldBlock` until the peer reads.
    @Test func writevPartialWriteReportsThePrefix() throws {
        let (a, b) = try Fixture.socketPair()
        defer {
            Glibc.close(a)
            Glibc.close(b)
        }
        try Posix.setOption(a, SOL_SOCKET, SO_SNDBUF, 4096)
        let data = Fixture.pattern(4 << 20)
        let first = try funnelWritev(a, data, segments: 64)
        let n = try #require(first.value)
        #expect(n > 0 && n < data.count)
        #expect(try funnelWritev(a, Array(data[n...]), segments: 3).isWouldBlock)
        #expect(try Fixture.drain(b) == Array(data[0..<n]))
    }
}
