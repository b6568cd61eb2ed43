import Glibc
import MeshACME
import MeshCrypto
import MeshTestSupport
import Testing

@Suite struct StorageTests {
    static func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o777 : 0
    }

    @Test func writesReplaceWholeFilesWithTheirModeAndLeaveNoTemporaries() throws {
        let base = try GatewayProcess.makeTempDirectory()
        defer { GatewayProcess.removeDirectory(base) }
        let directory = base + "/a/b"
        try ACMEStorage.makeDirectory(directory)
        #expect(Self.mode(directory) == 0o700)
        try ACMEStorage.write(Array("one".utf8), to: directory + "/k", mode: 0o600)
        try ACMEStorage.write(Array("two".utf8), to: directory + "/k", mode: 0o600)
        #expect(ACMEStorage.read(directory + "/k") == Array("two".utf8))
        #expect(Self.mode(directory + "/k") == 0o600)
        let listing = try Tool.run("/bin/ls", ["-A", directory])
        #expect(listing.stdout == "k\n")
        #expect(throws: ACMEStorage.Failure.self) {
            try ACMEStorage.write([1], to: base + "/missing/dir/k", mode: 0o600)
        }
    }

    @Test func theAccountKeyIsMadeOnceAndReused() throws {
        let directory = try GatewayProcess.makeTempDirectory()
        defer { GatewayProcess.removeDirectory(directory) }
        let first = try ACMEStorage.loadOrCreateKey(directory + "/account.key")
        let second = try ACMEStorage.loadOrCreateKey(directory + "/account.key")
        #expect(first.publicJWK() == second.publicJWK())
        #expect(Self.mode(directory + "/account.key") == 0o600)
        try ACMEStorage.write(Array("junk".utf8), to: directory + "/bad.key", mode: 0o600)
        #expect(throws: ACMEStorage.Failure.self) { _ = try ACMEStorage.loadOrCreateKey(directory + "/bad.key") }
    }

    @Test func thePlaceholderIsKeptWhileValidAndRemadeNearItsEnd() throws {
        let directory = try GatewayProcess.makeTempDirectory()
        defer { GatewayProcess.removeDirectory(directory) }
        let cert = directory + "/p.pem"
        let key = directory + "/p.key"
        let now: Int64 = Int64(time(nil))
        try ACMEStorage.ensurePlaceholder(certFile: cert, keyFile: key, domains: ["a.test"], now: now)
        let made = try #require(ACMEStorage.read(cert))
        try ACMEStorage.ensurePlaceholder(certFile: cert, keyFile: key, domains: ["a.test"], now: now + 86_400)
        #expect(ACMEStorage.read(cert) == made)
        // 29.5 days later less than a day is left: a new one.
        try ACMEStorage.ensurePlaceholder(certFile: cert, keyFile: key, domains: ["a.test"], now: now + 29 * 86_400 + 43_200)
        #expect(ACMEStorage.read(cert) != made)
        let check = try Tool.openssl(["x509", "-in", cert, "-noout", "-ext", "subjectAltName"])
        #expect(check.stdout.contains("DNS:a.test"))
        #expect(Self.mode(key) == 0o600)
    }
}
