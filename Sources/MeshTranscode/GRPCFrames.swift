/// gRPC's length-prefixed messages (grpc/doc/PROTOCOL-HTTP2.md, "Length-Prefixed-Message"): a 1-byte
/// compressed flag, a 4-byte big-endian length, then the message bytes.
public enum GRPCFrames {
    /// The size of the prefix in front of every message.
    public static let prefixLength = 5

    /// `message` with its prefix, uncompressed (we never negotiate `grpc-encoding`).
    public static func encode(_ message: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(prefixLength + message.count)
        append(message, to: &out)
        return out
    }

    /// Appends `message` with its prefix to `out` (several messages of a stream go into one buffer). The
    /// prefix holds 32 bits; callers pass request messages built from bodies the gateway already capped far
    /// below 4 GiB.
    public static func append(_ message: [UInt8], to out: inout [UInt8]) {
        let n = UInt32(truncatingIfNeeded: message.count)
        out.append(0)
        out.append(UInt8(truncatingIfNeeded: n >> 24))
        out.append(UInt8(truncatingIfNeeded: n >> 16))
        out.append(UInt8(truncatingIfNeeded: n >> 8))
        out.append(UInt8(truncatingIfNeeded: n))
        out.append(contentsOf: message)
    }
}

/// What is wrong with a gRPC message stream. The decoder stops at the first error: the stream cannot be
/// resynchronised after a bad prefix.
public enum GRPCFrameError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The compressed flag is 1, but no `grpc-encoding` was negotiated (the spec says to fail with INTERNAL).
    case compressedWithoutEncoding
    /// The flag byte is neither 0 nor 1.
    case invalidFlag(UInt8)
    /// The length prefix is above the decoder's limit.
    case messageTooLarge(length: UInt32, limit: Int)
    /// The stream ended inside a prefix or a message (`buffered` bytes were waiting).
    case truncated(buffered: Int)

    public var description: String {
        switch self {
        case .compressedWithoutEncoding: "compressed gRPC message without a negotiated grpc-encoding"
        case .invalidFlag(let f): "invalid gRPC message flag \(f)"
        case .messageTooLarge(let n, let l): "gRPC message of \(n) bytes exceeds the limit of \(l)"
        case .truncated(let b): "gRPC stream ends inside a message (\(b) bytes buffered)"
        }
    }
}

/// Incremental decoder: feed bytes as they arrive, split anywhere, and take the complete messages out.
/// Sans-IO: it only buffers what does not yet make a whole message.
public struct GRPCFrameDecoder: Sendable {
    /// 4 MiB: grpc-go's and grpc-java's default maximum receive size.
    public static let defaultMaxMessageLength = 4 << 20

    /// The largest message length accepted; a prefix announcing more fails before any payload is buffered.
    public let maxMessageLength: Int
    private var buffer: [UInt8] = []
    /// Start of the unconsumed bytes in `buffer`; compacted lazily so each byte is copied O(1) times.
    private var start = 0
    private var failed: GRPCFrameError?

    public init(maxMessageLength: Int = GRPCFrameDecoder.defaultMaxMessageLength) {
        self.maxMessageLength = maxMessageLength
    }

    /// Bytes received but not yet returned as a message.
    public var bufferedCount: Int { buffer.count - start }

    /// Appends `bytes` and returns every message now complete, in order.
    /// - Throws: the first `GRPCFrameError`; later calls throw it again.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(GRPCFrameError) -> [[UInt8]] {
        if let failed { throw failed }
        buffer.append(contentsOf: bytes)
        var messages: [[UInt8]] = []
        while let message = try next() { messages.append(message) }
        if start > 0 && start * 2 >= buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        return messages
    }

    /// Call at end of stream: throws `.truncated` when a partial message is left.
    public func finish() throws(GRPCFrameError) {
        if let failed { throw failed }
        if bufferedCount > 0 { throw .truncated(buffered: bufferedCount) }
    }

    private mutating func next() throws(GRPCFrameError) -> [UInt8]? {
        guard bufferedCount >= GRPCFrames.prefixLength else { return nil }
        let flag = buffer[start]
        guard flag == 0 else { return try fail(flag == 1 ? .compressedWithoutEncoding : .invalidFlag(flag)) }
        var length: UInt32 = 0
        for i in 1...4 { length = length << 8 | UInt32(buffer[start + i]) }
        guard UInt64(length) <= UInt64(max(0, maxMessageLength)) else {
            return try fail(.messageTooLarge(length: length, limit: maxMessageLength))
        }
        let end = start + GRPCFrames.prefixLength + Int(length)
        guard end <= buffer.count else { return nil }
        let message = Array(buffer[(start + GRPCFrames.prefixLength)..<end])
        start = end
        return message
    }

    private mutating func fail(_ error: GRPCFrameError) throws(GRPCFrameError) -> [UInt8]? {
        failed = error
        throw error
    }
}
