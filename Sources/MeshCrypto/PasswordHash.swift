import CCrypto

/// scrypt password hashing (RFC 7914) through libcrypto's `EVP_KDF` "SCRYPT", stored as
/// `scrypt$N$r$p$<salt>$<hash>` with salt and hash in unpadded base64url.
///
/// The cost is a parameter so tests can run cheaply; production uses `PasswordHash.Cost.interactive`.
public enum PasswordHash {
    /// scrypt cost parameters.
    public struct Cost: Sendable, Equatable {
        /// CPU/memory cost N (a power of two, 2 ≤ N ≤ 2^20).
        public var n: UInt64
        /// Block size r (1...32).
        public var r: UInt32
        /// Parallelism p (1...16).
        public var p: UInt32

        /// Creates a cost; see the field docs for accepted ranges (checked when hashing/verifying).
        public init(n: UInt64, r: UInt32, p: UInt32) {
            self.n = n
            self.r = r
            self.p = p
        }

        /// RFC 7914 §2's interactive-login recommendation (N = 2^15, r = 8, p = 1; 32 MiB).
        public static let interactive = Cost(n: 1 << 15, r: 8, p: 1)

        /// Bounds stored hashes too, so a tampered database row cannot make verification allocate gigabytes.
        var isAcceptable: Bool {
            n >= 2 && n <= 1 << 20 && n & (n - 1) == 0 && (1...32).contains(r) && (1...16).contains(p)
        }
    }

    /// Hashes `password` with a fresh 16-byte salt; nil only when `cost` is out of range.
    public static func hash(_ password: [UInt8], cost: Cost = .interactive) -> String? {
        let salt = SecureRandom.bytes(16)
        guard cost.isAcceptable, let derived = derive(password, salt: salt, cost: cost, length: 32) else { return nil }
        return "scrypt$\(cost.n)$\(cost.r)$\(cost.p)$\(Base64URL.encode(salt))$\(Base64URL.encode(derived))"
    }

    /// True when `password` matches a string produced by `hash`; false for a wrong password or a malformed or
    /// out-of-range stored string. The final comparison is constant-time.
    public static func verify(_ password: [UInt8], against stored: String) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "scrypt",
            let n = UInt64(parts[1]), let r = UInt32(parts[2]), let p = UInt32(parts[3]),
            let salt = Base64URL.decode(parts[4].utf8), let expected = Base64URL.decode(parts[5].utf8),
            (16...64).contains(expected.count)
        else { return false }
        let cost = Cost(n: n, r: r, p: p)
        guard cost.isAcceptable, let derived = derive(password, salt: salt, cost: cost, length: expected.count) else {
            return false
        }
        return ConstantTime.equals(derived, expected)
    }

    /// Raw scrypt output (RFC 7914 §2) of `length` bytes; nil when libcrypto refuses the parameters.
    public static func derive(_ password: [UInt8], salt: [UInt8], cost: Cost, length: Int) -> [UInt8]? {
        guard let kdf = EVP_KDF_fetch(nil, "SCRYPT", nil) else { return nil }
        defer { EVP_KDF_free(kdf) }
        guard let context = EVP_KDF_CTX_new(kdf) else { return nil }
        defer {
            EVP_KDF_CTX_free(context)
            LibCrypto.clearErrors()
        }
        guard let builder = ParamBuilder() else { return nil }
        builder.octets("pass", password)
        builder.octets("salt", salt)
        builder.uint64("n", cost.n)
        builder.uint32("r", cost.r)
        builder.uint32("p", cost.p)
        // scrypt needs 128·N·r·p bytes; allow that plus slack instead of OpenSSL's 32 MiB default cap.
        builder.uint64("maxmem_bytes", 128 * cost.n * UInt64(cost.r) * UInt64(cost.p) + (1 << 20))
        var out = [UInt8](repeating: 0, count: length)
        let ok = builder.withParams { params in
            out.withUnsafeMutableBufferPointer { EVP_KDF_derive(context, $0.baseAddress, length, params) == 1 }
        }
        return ok == true ? out : nil
    }
}
