import Glibc

/// A deterministic body of any length that is never held in memory: byte `i` is `i % 251` (a prime, so a
/// shifted, dropped or repeated block shows up). Producers fill buffers from it; consumers check against it.
public enum PatternBody {
    /// Largest span one `fill`/`matches` call handles; callers split bigger spans.
    public static let blockSize = 64 * 1024

    /// `blockSize + 251` pattern bytes starting at phase 0, so any phase has `blockSize` bytes after it.
    private static let table: [UInt8] = (0..<(blockSize + 251)).map { UInt8(truncatingIfNeeded: $0 % 251) }

    /// Writes pattern bytes `offset ..< offset + buffer.count` into `buffer` (count ≤ `blockSize`).
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer, offset: Int) {
        precondition(buffer.count <= blockSize)
        table.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[(offset % 251)...].prefix(buffer.count)))
        }
    }

    /// Whether `bytes` equals pattern bytes `offset ..< offset + bytes.count` (any length).
    public static func matches(_ bytes: UnsafeRawBufferPointer, offset: Int) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = min(blockSize, bytes.count - done)
            let phase = (offset + done) % 251
            let equal = table.withUnsafeBytes { source in
                memcmp(bytes.baseAddress! + done, source.baseAddress! + phase, n) == 0
            }
            if !equal { return false }
            done += n
        }
        return true
    }
}

/// Counts bytes and checks them against `PatternBody` as they stream past.
public struct PatternCounter: Sendable {
    /// Bytes seen so far.
    public private(set) var count = 0
    /// False once any byte differed from the pattern.
    public private(set) var intact = true

    /// A counter at offset 0.
    public init() {}

    /// Consumes the next span of the stream.
    public mutating func consume(_ bytes: UnsafeRawBufferPointer) {
        if intact && !PatternBody.matches(bytes, offset: count) { intact = false }
        count += bytes.count
    }
}
