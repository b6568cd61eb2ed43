import Glibc
import MeshConfig
import MeshJWT
import MeshPosix
import MeshSync

/// The key material of one JWT provider: what `jwks.file`/`jwks.inline` hold plus the last good `jwks.url`
/// set, merged into the provider's `KeySetStore` (SPEC §3). Shared by every runtime of the provider that has
/// the same key sources, so a reload that keeps the sources keeps the fetched keys.
///
/// File and inline sources are read synchronously (at start and on reload); the URL set arrives from the
/// control plane's refresher. Thread-safe; the lock guards only the two key lists, never I/O.
public final class ProviderKeys: Sendable {
    private struct Parts {
        /// Keys from file/inline sources and the exact bytes they came from (to notice edits on reload).
        var staticKeys: [JWK] = []
        var staticSkipped = 0
        var staticBytes: [[UInt8]] = []
        /// The last good `jwks.url` set; nil until the first successful fetch.
        var urlKeys: [JWK]?
        var urlSkipped = 0
        /// Problems met loading file/inline sources, as operator-readable lines.
        var loadErrors: [String] = []
    }

    /// The provider's name (for logs and callbacks).
    public let provider: String
    /// The key sources as configured.
    public let sources: [JWKSSource]
    /// The `jwks.url`, if the provider has one.
    public let url: String?
    /// `jwks.ca_file`: the CAs an `https://` JWKS server must chain to (nil: the system store).
    public let caFile: String?
    /// The shared store workers verify against.
    public let store: KeySetStore
    /// Identity of `sources` (URL refresh interval excluded: changing it keeps the keys).
    let fingerprint: [String]
    private let parts: Locked<Parts>

    /// Loads file/inline sources now (errors are recorded in `loadErrors`, not thrown).
    public init(provider: String, sources: [JWKSSource], now: Int64) {
        self.provider = provider
        self.sources = sources
        fingerprint = Self.identities(sources)
        let url =
            sources.lazy.compactMap { source -> String? in
                if case .url(let url, _, _) = source { return url }
                return nil
            }.first
        self.url = url
        caFile =
            sources.lazy.compactMap { source -> String? in
                if case .url(_, _, let caFile) = source { return caFile }
                return nil
            }.first
        let loaded = Self.loadStatic(sources)
        var initial = Parts()
        initial.staticKeys = loaded.keys
        initial.staticSkipped = loaded.skipped
        initial.staticBytes = loaded.bytes
        initial.loadErrors = loaded.errors
        parts = Locked(initial)
        store = KeySetStore(
            initial: loaded.keys.isEmpty ? nil : JWKSet(keys: loaded.keys, skipped: loaded.skipped),
            now: now, refetchable: url != nil
        )
    }

    /// Problems met loading file/inline sources at the last (re)load; empty when all loaded.
    public var loadErrors: [String] { parts.withLock { $0.loadErrors } }

    /// True once the store holds a key set.
    public var hasKeySet: Bool { store.current().keys != nil }

    /// The `refresh_ms` of the URL source, nil without one.
    public var refreshMs: Int? {
        for case .url(_, let refreshMs, _) in sources { return refreshMs }
        return nil
    }

    /// Installs a freshly fetched URL set (merged with file/inline keys); returns the store's new generation.
    @discardableResult
    public func installURLKeys(_ set: JWKSet, now: Int64) -> UInt64 {
        let merged = parts.withLock { parts in
            parts.urlKeys = set.keys
            parts.urlSkipped = set.skipped
            return Self.merged(parts)
        }
        return store.replace(merged, now: now)
    }

    /// Re-reads file/inline sources (on reload) and installs them if their bytes changed; returns the problems.
    @discardableResult
    public func reloadStatic(now: Int64) -> [String] {
        let loaded = Self.loadStatic(sources)
        let merged: JWKSet? = parts.withLock { parts in
            parts.loadErrors = loaded.errors
            // A file that cannot be read now keeps the keys it had: a reload must not lock users out.
            guard loaded.errors.isEmpty, loaded.bytes != parts.staticBytes else { return nil }
            parts.staticKeys = loaded.keys
            parts.staticSkipped = loaded.skipped
            parts.staticBytes = loaded.bytes
            let set = Self.merged(parts)
            return set.keys.isEmpty ? nil : set
        }
        if let merged { store.replace(merged, now: now) }
        return loaded.errors
    }

    private static func merged(_ parts: Parts) -> JWKSet {
        JWKSet(keys: parts.staticKeys + (parts.urlKeys ?? []), skipped: parts.staticSkipped + parts.urlSkipped)
    }

    // MARK: - Loading

    /// One string per source naming what it is (the URL's refresh interval left out).
    static func identities(_ sources: [JWKSSource]) -> [String] {
        sources.map { source in
            switch source {
            case .file(let path): "file:\(path)"
            case .url(let url, _, let caFile): "url:\(url) ca:\(caFile ?? "")"
            case .inline(let text): "inline:\(text)"
            }
        }
    }

    private static func loadStatic(
        _ sources: [JWKSSource]
    )
        -> (keys: [JWK], skipped: Int, bytes: [[UInt8]], errors: [String])
    {
        var keys: [JWK] = []
        var skipped = 0
        var allBytes: [[UInt8]] = []
        var errors: [String] = []
        for source in sources {
            let bytes: [UInt8]
            let what: String
            let origin: JWKSet.Source
            switch source {
            case .url:
                continue
            case .inline(let text):
                (bytes, what, origin) = (Array(text.utf8), "jwks.inline", .inline)
            case .file(let path):
                what = "jwks.file \(path)"
                origin = .file
                do {
                    // JWKSet.parse refuses documents over 1 MiB anyway; stop reading a runaway file early.
                    bytes = try Posix.readFile(path, limit: 1 << 20)
                } catch {
                    let reason = error.errno == EFBIG ? "larger than 1 MiB" : String(cString: strerror(error.errno))
                    errors.append("\(what): cannot read the file: \(reason)")
                    continue
                }
            }
            allBytes.append(bytes)
            switch JWKSet.parse(bytes, source: origin) {
            case .success(let set):
                keys += set.keys
                skipped += set.skipped
            case .failure(let error):
                errors.append("\(what): not a usable JWK Set (\(error.label))")
            }
        }
        return (keys, skipped, allBytes, errors)
    }
}

/// Why a key set could not be loaded (a fetch error or HTTP status).
struct KeyLoadFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
