import Foundation
import Testing

@testable import AuthService

/// The key directory's rules with time as a parameter: which keys the JWKS publishes after a rotation.
@Suite struct SigningKeysTests {
    @Test func rotatedOutKeyIsPublishedForTheRetentionThenDropped() throws {
        let directory = try ServiceProcessDirectory()
        let keys = try SigningKeys(directory: directory.path + "/keys", retentionSeconds: 100)
        let first = keys.current
        let rotatedAt = first.createdMs + 5_000
        let kid = try SigningKeys.create(in: directory.path + "/keys", nowMs: rotatedAt)
        try keys.reloadIfChanged()
        #expect(keys.current.kid == kid)
        #expect(keys.published(nowMs: rotatedAt).map(\.kid) == [first.kid, kid])
        #expect(keys.published(nowMs: rotatedAt + 99_999).map(\.kid) == [first.kid, kid])
        #expect(keys.published(nowMs: rotatedAt + 100_000).map(\.kid) == [kid])
        let jwks = String(decoding: keys.jwks(nowMs: rotatedAt), as: UTF8.self)
        #expect(jwks.contains(first.kid) && jwks.contains(kid))
    }

    @Test func existingKeysAreLoadedNotReplaced() throws {
        let directory = try ServiceProcessDirectory()
        let before = try SigningKeys(directory: directory.path + "/keys", retentionSeconds: 60).current.kid
        let after = try SigningKeys(directory: directory.path + "/keys", retentionSeconds: 60).current.kid
        #expect(before == after)
    }

    @Test func aDamagedKeyFileStopsTheServiceInsteadOfMintingANewKey() throws {
        let directory = try ServiceProcessDirectory()
        let keyDirectory = directory.path + "/keys"
        try FileManager.default.createDirectory(atPath: keyDirectory, withIntermediateDirectories: true)
        try "not a key".write(toFile: keyDirectory + "/key-1-abcdef.pem", atomically: true, encoding: .utf8)
        #expect(throws: KeyFileError.self) { try SigningKeys(directory: keyDirectory, retentionSeconds: 60) }
    }

    @Test(arguments: [
        ("key-1795593341262-95acf97e1e8683ea.pem", true), ("key-12-ab.pem.tmp", false), ("key-x-ab.pem", false),
        ("notes.txt", false), ("key-12-.pem", false), ("key-12-a-b.pem", false),
    ])
    func keyFileNames(name: String, accepted: Bool) {
        #expect((SigningKeys.parseName(name) != nil) == accepted)
    }
}
