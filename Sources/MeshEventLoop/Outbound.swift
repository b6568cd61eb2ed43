import Glibc
import MeshPosix

/// Bytes queued for one socket: a head the gateway wrote (in a pooled block this struct owns) followed by
/// body bytes that still live in the source connection's buffer. One `writev` sends both (STYLE: head+body).
///
/// The source must not overwrite its buffer while `body` is pending: a connection reads again only once the
/// outbound that borrows its bytes is empty (that is the back-pressure).
public struct Outbound {
    public private(set) var headBlock: UnsafeMutableRawPointer?
    public var headStart = 0
    public var headEnd = 0
    public var body: UnsafeRawPointer?
    public var bodyCount = 0
    /// Bytes of `Outbound.crlf` still to send after the body (a chunked body whose trailers were dropped ends
    /// with the gateway's own CRLF).
    public private(set) var tailCount = 0
    private static let crlf: StaticString = "\r\n"

    public init() {}

    public var isEmpty: Bool { headStart == headEnd && bodyCount == 0 && tailCount == 0 }

    /// Bytes queued (head, body and the closing CRLF).
    public var count: Int { headEnd - headStart + bodyCount + tailCount }

    /// A block to write a head into; give it back with `releaseHead` when done (flush does it).
    public mutating func headSpace(from pool: BufferPool) -> UnsafeMutableRawBufferPointer {
        if headBlock == nil { headBlock = pool.take() }
        return UnsafeMutableRawBufferPointer(start: headBlock! + headEnd, count: pool.bufferSize - headEnd)
    }

    public mutating func commitHead(_ count: Int) { headEnd += count }

    public mutating func queueBody(_ bytes: UnsafeRawBufferPointer, thenCRLF: Bool = false) {
        precondition(bodyCount == 0 && tailCount == 0, "body queued twice")
        body = bytes.baseAddress
        bodyCount = bytes.count
        if thenCRLF { tailCount = 2 }
    }

    public enum FlushResult {
        case done
        case blocked
        case failed(SystemError)
    }

    /// Writes as much as the socket takes. `.blocked`: wait for writability.
    public mutating func flush(_ fd: Int32, pool: BufferPool) -> FlushResult {
        while !isEmpty {
            var iov = (iovec(), iovec(), iovec())
            var count: Int32 = 0
            let headCount = headEnd - headStart
            withUnsafeMutablePointer(to: &iov) { tuple in
                tuple.withMemoryRebound(to: iovec.self, capacity: 3) { entries in
                    if headCount > 0 {
                        entries[Int(count)] = iovec(iov_base: headBlock! + headStart, iov_len: headCount)
                        count += 1
                    }
                    if bodyCount > 0 {
                        entries[Int(count)] = iovec(iov_base: UnsafeMutableRawPointer(mutating: body), iov_len: bodyCount)
                        count += 1
                    }
                    if tailCount > 0 {
                        let crlf = UnsafeMutableRawPointer(mutating: Self.crlf.utf8Start) + (2 - tailCount)
                        entries[Int(count)] = iovec(iov_base: crlf, iov_len: tailCount)
                        count += 1
                    }
                }
            }
            let result: IOResult<Int>
            do {
                result = try withUnsafePointer(to: &iov) { p in
                    try p.withMemoryRebound(to: iovec.self, capacity: 3) { try Posix.writev(fd, $0, count) }
                }
            } catch let error as SystemError {
                return .failed(error)
            } catch {
                return .failed(SystemError(errno: EIO, call: "writev"))
            }
            guard case .processed(var written) = result else { return .blocked }
            let fromHead = min(written, headCount)
            headStart += fromHead
            written -= fromHead
            let fromBody = min(written, bodyCount)
            body = body.map { $0 + fromBody }
            bodyCount -= fromBody
            tailCount -= written - fromBody
        }
        reset(pool: pool)
        return .done
    }

    /// Hands up to `limit` queued bytes, in order, to `take` (which copies them, e.g. into TLS records) and drops
    /// them; the head block goes back once the queue is empty. Returns how many bytes were taken; a `take` that
    /// throws leaves the bytes it was given queued.
    public mutating func drain<E: Error>(
        limit: Int, pool: BufferPool, into take: (UnsafeRawBufferPointer) throws(E) -> Void
    ) throws(E) -> Int {
        var taken = 0
        if headEnd > headStart, taken < limit {
            let count = min(headEnd - headStart, limit - taken)
            try take(UnsafeRawBufferPointer(start: headBlock! + headStart, count: count))
            headStart += count
            taken += count
        }
        if bodyCount > 0, taken < limit {
            let count = min(bodyCount, limit - taken)
            try take(UnsafeRawBufferPointer(start: body, count: count))
            body = body.map { $0 + count }
            bodyCount -= count
            taken += count
        }
        if tailCount > 0, taken < limit {
            let count = min(tailCount, limit - taken)
            try take(UnsafeRawBufferPointer(start: UnsafeRawPointer(Self.crlf.utf8Start) + (2 - tailCount), count: count))
            tailCount -= count
            taken += count
        }
        if isEmpty { reset(pool: pool) }
        return taken
    }

    /// Drops everything queued and gives the head block back.
    public mutating func reset(pool: BufferPool) {
        if let block = headBlock { pool.give(block) }
        headBlock = nil
        headStart = 0
        headEnd = 0
        body = nil
        bodyCount = 0
        tailCount = 0
    }
}
