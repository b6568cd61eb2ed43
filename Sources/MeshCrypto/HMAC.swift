import CCrypto

/// HMAC (RFC 2104) over the SHA-2 family, computed by libcrypto's one-shot `HMAC()`.
public enum HMAC {
    /// Computes HMAC-`hash` of `data` under `key`. An empty key is valid HMAC input.
    public static func mac(_ hash: HashFunction, key: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer) -> [UInt8] {
        // OpenSSL treats a NULL key as "reuse the previous key"; give it a real pointer even when empty.
        var dummy: UInt8 = 0
        return withUnsafeMutablePointer(to: &dummy) { dummyPointer in
            let keyPointer = key.baseAddress ?? UnsafeRawPointer(dummyPointer)
            return [UInt8](unsafeUninitializedCapacity: hash.byteCount) { buffer, initialized in
                var length: UInt32 = 0
                let out = CCrypto.HMAC(
                    hash.evpMD, keyPointer, Int32(key.count),
                    data.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) },
                    data.count, buffer.baseAddress, &length)
                precondition(out != nil && Int(length) == hash.byteCount, "HMAC failed")
                initialized = Int(length)
            }
        }
    }

    /// Computes HMAC-`hash` of `data` under `key` (byte arrays).
    public static func mac(_ hash: HashFunction, key: [UInt8], data: [UInt8]) -> [UInt8] {
        key.withUnsafeBytes { keyBytes in data.withUnsafeBytes { mac(hash, key: keyBytes, data: $0) } }
    }

    /// True when `expected` is the HMAC of `data` under `key`; the comparison is constant-time so a forger
    /// cannot learn the correct tag byte by byte from response timing.
    public static func verify(
        _ hash: HashFunction, key: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer,
        expected: UnsafeRawBufferPointer
    ) -> Bool {
        let computed = mac(hash, key: key, data: data)
        return computed.withUnsafeBytes { ConstantTime.equals($0, expected) }
    }
}

/// Comparisons whose running time does not depend on where the inputs differ (`CRYPTO_memcmp`).
public enum ConstantTime {
    /// True when both buffers have the same length and bytes. Lengths are compared first (they are not secret:
    /// a MAC or hash has a fixed, public size).
    public static func equals(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
        guard lhs.count == rhs.count else { return false }
        guard lhs.count > 0, let left = lhs.baseAddress, let right = rhs.baseAddress else { return true }
        return CRYPTO_memcmp(left, right, lhs.count) == 0
    }

    /// Byte-array form of `equals`.
    public static func equals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        lhs.withUnsafeBytes { left in rhs.withUnsafeBytes { equals(left, $0) } }
    }
}
