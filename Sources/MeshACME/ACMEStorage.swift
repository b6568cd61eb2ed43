import Glibc
import MeshCrypto

/// Files in a listener's `storage_dir`: written whole to a temporary name, synced, then renamed, so a reader (the
/// certificate reload, a restart) sees the old file or the new one, never half of one. Keys are created 0600.
public enum ACMEStorage {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Creates `directory` (0700) and its parents when missing.
    public static func makeDirectory(_ directory: String) throws(Failure) {
        var path = directory.hasPrefix("/") ? "" : "."
        for part in directory.split(separator: "/") {
            path += "/" + part
            if mkdir(path, 0o700) != 0 && errno != EEXIST {
                throw Failure(description: "\(path): cannot create (\(String(cString: strerror(errno))))")
            }
        }
    }

    /// Writes `bytes` to `path` atomically with `mode`.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws(Failure) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Failure(description: "\(temporary): \(String(cString: strerror(errno)))") }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw Failure(description: "\(temporary): \(reason)")
            }
            offset += written
        }
        // The mode of an existing temporary file is not reset by open(O_CREAT): set it explicitly.
        _ = fchmod(fd, mode)
        _ = fsync(fd)
        close(fd)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw Failure(description: "\(path): \(reason)")
        }
    }

    /// The whole file, nil when it cannot be read.
    public static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return count == 0 ? bytes : nil }
            bytes += chunk[0..<count]
        }
    }

    /// The key stored at `path`, or a new P-256 key written there (0600). Used for the account key.
    public static func loadOrCreateKey(_ path: String) throws(Failure) -> PrivateKey {
        if let pem = read(path) {
            guard let key = try? PrivateKey.fromPEM(pem).get() else {
                throw Failure(description: "\(path): not a PEM private key")
            }
            return key
        }
        guard let key = PrivateKey.generate(.ec(.p256)) else { throw Failure(description: "key generation failed") }
        try write(Array(key.pemPKCS8().utf8), to: path, mode: 0o600)
        return key
    }

    /// Makes sure a self-signed pair for `domains` is at `certFile`/`keyFile` and valid at `now` for at least a
    /// day (written anew otherwise): what a listener serves before its first issued certificate.
    public static func ensurePlaceholder(certFile: String, keyFile: String, domains: [String], now: Int64) throws(Failure) {
        if let pem = read(certFile), read(keyFile) != nil,
            let validity = try? ACMECertificates.validity(ofPEM: pem),
            validity.notBefore <= now, validity.notAfter > now + 86_400
        {
            return
        }
        guard let key = PrivateKey.generate(.ec(.p256)) else { throw Failure(description: "key generation failed") }
        let certificate: String
        do {
            certificate = try ACMECertificates.selfSigned(domains: domains, key: key, now: now - 60, days: 30)
        } catch {
            throw Failure(description: "placeholder certificate: \(error)")
        }
        try write(Array(key.pemPKCS8().utf8), to: keyFile, mode: 0o600)
        try write(Array(certificate.utf8), to: certFile, mode: 0o644)
    }
}
