import MeshCrypto

/// A per-worker SplitMix64 stream for jitter, balancing, sampling and ids, seeded from libcrypto's
/// `RAND_bytes`. Not for secrets: it only has to be unpredictable enough that clients cannot steer
/// load balancing, and cheap enough for every request.
struct FastRandom {
    private var state: UInt64

    init() {
        var seed: UInt64 = 0
        withUnsafeMutableBytes(of: &seed) { SecureRandom.fill($0) }
        state = seed
    }

    @inline(__always)
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A non-zero value (trace and span ids must not be all zero).
    @inline(__always)
    mutating func nextNonZero() -> UInt64 {
        while true {
            let v = next()
            if v != 0 { return v }
        }
    }
}
