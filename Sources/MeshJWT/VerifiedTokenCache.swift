import MeshCrypto

/// A bounded cache of verified tokens (SPEC §3: "Verified tokens may be cached until exp"), keyed by the token's
/// SHA-256 so raw tokens are not kept in memory.
///
/// Owned by one worker and used only on its thread: no locks. Entries die at `exp`, when `capacity` forces the
/// oldest out (FIFO), or when the provider's key-set generation changes (a removed key must stop working).
/// Tokens without `exp` are never cached.
public struct VerifiedTokenCache {
    /// SHA-256 of a token as four words (hashable without an array allocation).
    struct Key: Hashable {
        var a: UInt64, b: UInt64, c: UInt64, d: UInt64
    }

    private struct Entry {
        let token: VerifiedToken
        let expiresAt: Int64
    }

    /// Maximum number of entries.
    public let capacity: Int
    private var entries: [Key: Entry] = [:]
    private var order: [Key?]
    private var next = 0
    private var generation: UInt64 = 0

    /// Creates an empty cache holding at most `capacity` tokens.
    public init(capacity: Int = 4096) {
        precondition(capacity > 0, "capacity must be positive")
        self.capacity = capacity
        order = Array(repeating: nil, count: capacity)
        entries.reserveCapacity(capacity)
    }

    /// Number of live entries (expired ones still count until looked up or evicted).
    public var count: Int { entries.count }

    /// The cached verification of `token` if still valid at `now` for key-set `generation`; a generation change
    /// clears everything first.
    public mutating func lookup(_ token: Substring, now: Int64, generation: UInt64) -> VerifiedToken? {
        sync(generation)
        let key = Self.key(token)
        guard let entry = entries[key] else { return nil }
        // RFC 7519 §4.1.4: valid strictly before exp, the same rule the verifier applied (without leeway here,
        // so a cached answer is never more lenient than a fresh one).
        guard now < entry.expiresAt else {
            entries[key] = nil
            return nil
        }
        return entry.token
    }

    /// Stores a verification made against key-set `generation`; ignored when the token has no `exp`.
    public mutating func insert(_ token: Substring, _ verified: VerifiedToken, generation: UInt64) {
        sync(generation)
        guard let expiresAt = verified.expiresAt else { return }
        let key = Self.key(token)
        if entries[key] == nil {
            if let evicted = order[next] { entries[evicted] = nil }
            order[next] = key
            next = (next + 1) % capacity
        }
        entries[key] = Entry(token: verified, expiresAt: expiresAt)
    }

    /// Drops every entry (e.g. when the provider's key set changed).
    public mutating func clear() {
        entries.removeAll(keepingCapacity: true)
        for index in order.indices { order[index] = nil }
        next = 0
    }

    private mutating func sync(_ newGeneration: UInt64) {
        if newGeneration != generation {
            clear()
            generation = newGeneration
        }
    }

    static func key(_ token: Substring) -> Key {
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { digest in
            let hashed: Void? = token.utf8.withContiguousStorageIfAvailable {
                Digest.hash(.sha256, UnsafeRawBufferPointer($0), into: digest)
            }
            if hashed == nil { Array(token.utf8).withUnsafeBytes { Digest.hash(.sha256, $0, into: digest) } }
            return Key(
                a: digest.load(fromByteOffset: 0, as: UInt64.self), b: digest.load(fromByteOffset: 8, as: UInt64.self),
                c: digest.load(fromByteOffset: 16, as: UInt64.self), d: digest.load(fromByteOffset: 24, as: UInt64.self)
            )
        }
    }
}
