import CSSL
import Glibc
import MeshSync

/// Session ticket keys of one listener, shared by every worker (and kept across reloads by passing the same
/// ring to the new context), so a ticket issued by one worker resumes on any other.
///
/// The newest key encrypts new tickets; the previous `retained` keys still decrypt. Every accepted ticket is
/// replaced by a new one under the newest key (the callback returns 2): a TLS 1.3 server that does not renew
/// sends no ticket on a resumed connection, so its client (OpenSSL keeps the last connection's session) makes
/// every other connection a full handshake — what wrk did against meshgate (issue 11), never against nginx,
/// whose default tickets renew. Single-use tickets are also what RFC 8446 §C.4 asks for privacy. The ring rotates
/// itself: the first ticket issued once the newest key is `rotationSeconds` old gets a fresh key (no thread, no
/// timer: a listener nobody connects to has nothing to rotate). A ticket then lives at most `retained + 1`
/// rotation periods, which bounds how long a stolen key can decrypt recorded TLS 1.2 traffic. Keys come from
/// `RAND_bytes` and never leave the process.
public final class TicketKeyRing: Sendable {
    /// One key: a 16-byte name (sent in the ticket, to find the key again), an HMAC-SHA256 key and an
    /// AES-256-CBC key (the layout of OpenSSL's own ticket keys and of nginx's 80-byte key files).
    struct Key {
        var name: (UInt64, UInt64)
        /// `clock()` when the key was made.
        var created: Int64 = 0
        var hmac: [UInt8]
        var aes: [UInt8]
    }

    /// Keys, newest first.
    private let keys: Locked<[Key]>
    private let retained: Int
    private let rotationSeconds: Int64
    private let clock: @Sendable () -> Int64

    /// A ring with one fresh key that keeps `retained` previous keys for decryption after rotations.
    /// - Parameters:
    ///   - rotationSeconds: age of the newest key after which the next ticket gets a fresh one (default 1 h,
    ///     so with 2 retained keys a ticket resumes for 2–3 hours, as nginx's and HAProxy's rotations do).
    ///   - clock: monotonic seconds (tests pass their own).
    public init(
        retained: Int = 2, rotationSeconds: Int64 = 3600,
        clock: @escaping @Sendable () -> Int64 = TicketKeyRing.monotonicSeconds
    ) {
        self.retained = max(0, retained)
        self.rotationSeconds = max(1, rotationSeconds)
        self.clock = clock
        keys = Locked([Self.freshKey(created: clock())])
    }

    /// CLOCK_MONOTONIC_COARSE in seconds (the default clock).
    public static func monotonicSeconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &now)
        return Int64(now.tv_sec)
    }

    /// Makes a fresh key the encrypting one; the oldest beyond `retained` is forgotten.
    public func rotate() {
        let key = Self.freshKey(created: clock())
        keys.withLock { insert(key, into: &$0) }
    }

    private func insert(_ key: Key, into keys: inout [Key]) {
        keys.insert(key, at: 0)
        if keys.count > retained + 1 { keys.removeLast(keys.count - retained - 1) }
    }

    /// How many keys currently decrypt (for tests and `/config`).
    public var keyCount: Int { keys.withLock { $0.count } }

    private static func freshKey(created: Int64) -> Key {
        var bytes = [UInt8](repeating: 0, count: 80)
        // RAND_bytes failing means the process has no entropy: nothing can be served safely.
        precondition(RAND_bytes(&bytes, 80) == 1, "RAND_bytes failed")
        let name = bytes.withUnsafeBytes { ($0.load(as: UInt64.self), $0.load(fromByteOffset: 8, as: UInt64.self)) }
        return Key(name: name, created: created, hmac: Array(bytes[16..<48]), aes: Array(bytes[48..<80]))
    }

    /// The body of the libssl ticket callback (`SSL_CTX_set_tlsext_ticket_key_evp_cb`): on encrypt, writes the
    /// newest key's name and a random IV and initialises the cipher and MAC; on decrypt, finds the key by name.
    /// Returns libssl's codes: 1 ok (issuing), 2 ok and renew the ticket (every accepted one), 0 unknown key (full
    /// handshake), -1 error.
    func ticketCallback(
        name: UnsafeMutablePointer<UInt8>, iv: UnsafeMutablePointer<UInt8>, cipher: OpaquePointer,
        mac: OpaquePointer, encrypt: Bool
    ) -> Int32 {
        let now = encrypt ? clock() : 0
        let found: Key? = keys.withLock { keys in
            if encrypt {
                if now - keys[0].created >= rotationSeconds { insert(Self.freshKey(created: now), into: &keys) }
                return keys[0]
            }
            let wanted = UnsafeRawPointer(name).loadUnaligned(as: (UInt64, UInt64).self)
            return keys.first(where: { $0.name == wanted })
        }
        guard let key = found else { return 0 }
        if encrypt {
            withUnsafeBytes(of: key.name) { name.update(from: $0.bindMemory(to: UInt8.self).baseAddress!, count: 16) }
            guard RAND_bytes(iv, meshgate_ticket_iv_length()) == 1 else { return -1 }
        }
        guard meshgate_ticket_cipher_init(cipher, key.aes, iv, encrypt ? 1 : 0) == 1,
            meshgate_ticket_mac_init(mac, key.hmac, key.hmac.count) == 1
        else { return -1 }
        return encrypt ? 1 : 2
    }
}
