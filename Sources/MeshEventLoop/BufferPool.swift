import Glibc

/// Fixed-size byte buffers for one worker, handed out on demand and taken back when a connection has no
/// bytes pending, so idle keep-alive connections hold no buffer (STYLE "Performance facts": big buffers,
/// from a pool). Single-threaded: owned by one event loop.
public final class BufferPool {
    public let bufferSize: Int
    private var free: [UnsafeMutableRawPointer] = []
    private let maxFree: Int

    public init(bufferSize: Int, maxFree: Int = 256) {
        self.bufferSize = bufferSize
        self.maxFree = maxFree
        free.reserveCapacity(maxFree)
    }

    deinit { for p in free { p.deallocate() } }

    @inline(__always)
    public func take() -> UnsafeMutableRawPointer {
        if let p = free.popLast() { return p }
        return .allocate(byteCount: bufferSize, alignment: 16)
    }

    @inline(__always)
    public func give(_ p: UnsafeMutableRawPointer) {
        if free.count < maxFree { free.append(p) } else { p.deallocate() }
    }
}

/// A connection's read buffer: bytes `[start, end)` of a pooled block are received but not yet consumed.
public struct IOBuffer {
    public private(set) var base: UnsafeMutableRawPointer?
    public var start = 0
    public var end = 0
    public private(set) var capacity = 0

    public init() {}

    public var isEmpty: Bool { start == end }
    public var count: Int { end - start }
    public var hasBlock: Bool { base != nil }
    public var spaceAtEnd: Int { capacity - end }

    /// The unconsumed bytes.
    @inline(__always)
    public var readable: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base.map { $0 + start }, count: end - start)
    }

    public mutating func acquire(from pool: BufferPool) {
        if base == nil {
            base = pool.take()
            capacity = pool.bufferSize
            start = 0
            end = 0
        }
    }

    /// Gives the block back if nothing is pending.
    public mutating func releaseIfEmpty(to pool: BufferPool) {
        if let b = base, start == end {
            pool.give(b)
            base = nil
            start = 0
            end = 0
            capacity = 0
        }
    }

    public mutating func release(to pool: BufferPool) {
        if let b = base { pool.give(b) }
        base = nil
        start = 0
        end = 0
        capacity = 0
    }

    /// Moves the unconsumed bytes to the front so a read can append after them.
    public mutating func compact() {
        guard let b = base, start > 0 else { return }
        if start < end { memmove(b, b + start, end - start) }
        end -= start
        start = 0
    }
}
