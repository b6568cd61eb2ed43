/// Turns key bytes into what the stores use, without keeping the bytes. Which bytes make the key (client IP,
/// a header, a claim, nothing for `route`) is `MeshConfig.RateLimitKeyConfig`; the request path extracts them.
///
/// The process store keeps only a 64-bit digest per key: SipHash-1-3 (the standard library's `Hasher`) with
/// the process's random seed, so a client cannot craft two values that share a bucket, and a huge header value
/// costs one pass of hashing and no memory. Two distinct keys share a bucket with probability about
/// n²/2⁶⁵ for n resident keys (≈ 3·10⁻¹⁰ at 100 000 keys).
public enum RateLimitKey {
    /// Values longer than this are never stored or sent whole: the Redis key carries a prefix and a hash.
    public static let maxKeyBytes = 128

    /// The process-scope digest of a key's bytes (any length).
    @inline(__always)
    public static func digest(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        return UInt64(bitPattern: Int64(hasher.finalize()))
    }

    /// Digest of a `[UInt8]` key (tests, control paths).
    public static func digest(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { digest($0) }
    }

    /// The client-IP key bytes of a raw address (4 bytes IPv4 or 16 bytes IPv6): an IPv4-mapped IPv6 address
    /// (`::ffff:a.b.c.d`, what a dual-stack listener reports) is counted as its IPv4 address.
    @inline(__always)
    public static func clientIP(_ address: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard address.count == 16 else { return address }
        for i in 0..<10 where address[i] != 0 { return address }
        guard address[10] == 0xFF, address[11] == 0xFF else { return address }
        return UnsafeRawBufferPointer(rebasing: address[12..<16])
    }

    /// The Redis key for the global scope: `<prefix>v:<bytes>` when the value is at most `maxKeyBytes`, else
    /// `<prefix>h:<first 64 bytes><16 hex digits of FNV-1a 64>`. Unlike `digest`, this must be the same in every
    /// replica, so it uses a fixed hash; the two forms cannot collide with each other (`v:` vs `h:`).
    public static func redisKey(prefix: [UInt8], _ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var out = prefix
        if bytes.count <= maxKeyBytes {
            out += [0x76, 0x3A]
            out.append(contentsOf: bytes)
            return out
        }
        out += [0x68, 0x3A]
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<64]))
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = Array("0123456789abcdef".utf8)
        for shift in stride(from: 60, through: 0, by: -4) { out.append(hex[Int((hash >> UInt64(shift)) & 0xF)]) }
        return out
    }
}
