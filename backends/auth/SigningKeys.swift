import Glibc
import MeshCrypto
import MeshJWT
import MeshPosix
import ServiceKit

/// The auth service's ES256 signing keys, kept as PKCS#8 PEM files (mode 0600) under `<data-dir>/keys/`,
/// one per key, named `key-<created-ms>-<kid>.pem`.
///
/// The newest key signs. An older key stays published in the JWKS until `retention` after its successor was
/// created (tokens it signed live at most token-ttl; the retention adds a minute for clock skew and leeway), so
/// a rotation never invalidates tokens already handed out. `rotate-key` run against a live service's data dir
/// is picked up without a restart: the directory is listed on every use (a few entries; directory mtimes are
/// too coarse to tell two changes a few milliseconds apart).
final class SigningKeys {
    /// One loaded key.
    struct Entry {
        let kid: String
        let createdMs: Int64
        let key: PrivateKey
    }

    let directory: String
    let retentionMs: Int64
    private(set) var entries: [Entry] = []
    private var loadedNames: Set<String> = []

    /// Loads the keys in `directory`, creating the directory and a first key when there is none.
    init(directory: String, retentionSeconds: Int64) throws {
        self.directory = directory
        retentionMs = retentionSeconds * 1000
        try ServiceOptions.makeDirectories(directory)
        try reloadIfChanged()
        if entries.isEmpty {
            _ = try SigningKeys.create(in: directory, nowMs: WallClock.nowMilliseconds())
            try reloadIfChanged()
        }
    }

    /// The signer: the newest key.
    var current: Entry { entries[entries.count - 1] }

    /// The keys a verifier may still need at `nowMs`: the signer and every key whose successor is recent.
    func published(nowMs: Int64) -> [Entry] {
        entries.indices.filter { i in
            i == entries.count - 1 || entries[i + 1].createdMs + retentionMs > nowMs
        }.map { entries[$0] }
    }

    /// The JWKS document of `published(nowMs:)`, newest first.
    func jwks(nowMs: Int64) -> [UInt8] {
        TokenSigner.jwksDocument(published(nowMs: nowMs).reversed().map { ($0.kid, .es256, $0.key.publicJWK()) })
    }

    /// Re-reads the keys if the set of key files changed since the last load (a `rotate-key` from another process).
    func reloadIfChanged() throws {
        guard let listing = FileIO.list(directory) else {
            throw SystemError(errno: errno, call: "opendir \(directory)")
        }
        let names = Set(listing.filter { SigningKeys.parseName($0) != nil })
        guard names != loadedNames || entries.isEmpty else { return }
        var loaded: [Entry] = []
        for name in names {
            guard let (createdMs, kid) = SigningKeys.parseName(name) else { continue }
            guard let pem = FileIO.read(directory + "/" + name),
                case .success(let key) = PrivateKey.fromPEM(pem), key.kind == .ec(.p256)
            else { throw KeyFileError(path: directory + "/" + name) }
            loaded.append(Entry(kid: kid, createdMs: createdMs, key: key))
        }
        entries = loaded.sorted { ($0.createdMs, $0.kid) < ($1.createdMs, $1.kid) }
        loadedNames = names
    }

    /// Generates a P-256 key, stores it (0600, atomically, durably) and returns its kid.
    static func create(in directory: String, nowMs: Int64) throws -> String {
        guard let key = PrivateKey.generate(.ec(.p256)) else { throw KeyFileError(path: "(key generation)") }
        let kid = SecureRandom.bytes(8).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        try ServiceOptions.makeDirectories(directory)
        try FileIO.writeAtomically("\(directory)/key-\(nowMs)-\(kid).pem", Array(key.pemPKCS8().utf8), mode: 0o600)
        return kid
    }

    /// `key-<ms>-<kid>.pem` → (ms, kid); nil for other files (temporaries, editors' backups).
    static func parseName(_ name: String) -> (Int64, String)? {
        guard name.hasPrefix("key-"), name.hasSuffix(".pem") else { return nil }
        let parts = name.dropFirst(4).dropLast(4).split(separator: "-")
        guard parts.count == 2, let ms = Int64(parts[0]), !parts[1].isEmpty else { return nil }
        return (ms, String(parts[1]))
    }
}

/// A key file that exists but cannot be loaded: the service refuses to start rather than mint a new key
/// silently (which would invalidate every token in circulation).
struct KeyFileError: Error, CustomStringConvertible {
    let path: String
    var description: String { "cannot load signing key \(path) (expected an unencrypted P-256 PKCS#8 PEM)" }
}
