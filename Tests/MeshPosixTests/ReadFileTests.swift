import Glibc
import MeshPosix
import Testing

/// `Posix.readFile` reads until read(2) says 0, in 16 KiB chunks, and fails with EFBIG as soon as more than
/// `limit` bytes have arrived.
@Suite struct ReadFileTests {
    func withFile(_ bytes: [UInt8], _ body: (String) throws -> Void) throws {
        let path = try Fixture.tempFile(bytes)
        defer { unlink(path) }
        try body(path)
    }

    @Test func smallFile() throws {
        let bytes = Array("-----BEGIN PRIVATE KEY-----\nabc\n".utf8)
        try withFile(bytes) { path throws in #expect(try Posix.readFile(path) == bytes) }
    }

    @Test func emptyFile() throws {
        try withFile([]) { path throws in #expect(try Posix.readFile(path) == []) }
    }

    /// Several chunks plus a partial one: the seams between reads must neither drop nor repeat bytes.
    @Test func fileLargerThanOneChunk() throws {
        let bytes = Fixture.pattern(3 * 16384 + 123)
        try withFile(bytes) { path throws in #expect(try Posix.readFile(path) == bytes) }
    }

    /// A chunk-aligned size ends with one read of 0 after a full chunk, the other way a loop can go wrong.
    @Test func fileOfExactlyTwoChunks() throws {
        let bytes = Fixture.pattern(2 * 16384, seed: 7)
        try withFile(bytes) { path throws in #expect(try Posix.readFile(path) == bytes) }
    }

    /// /proc files report size 0 to stat but have content: reading to EOF, not to st_size, gets it.
    @Test func procFileThatStatsAsEmpty() throws {
        var info = stat()
        #expect(stat("/proc/self/status", &info) == 0)
        #expect(info.st_size == 0)
        let text = String(decoding: try Posix.readFile("/proc/self/status"), as: UTF8.self)
        #expect(text.hasPrefix("Name:"))
        #expect(text.contains("\nPid:"))
    }

    @Test func missingFileIsENOENTFromOpen() {
        let path = "/tmp/meshposix-missing-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        #expect(throws: SystemError(errno: ENOENT, call: "open")) { try Posix.readFile(path) }
    }

    @Test func directoryIsEISDIRFromRead() {
        #expect(throws: SystemError(errno: EISDIR, call: "read")) { try Posix.readFile("/tmp") }
    }

    /// `limit` is inclusive: exactly `limit` bytes are returned, one more is EFBIG.
    @Test func limitIsInclusive() throws {
        let bytes = Fixture.pattern(100)
        try withFile(bytes) { path throws in
            #expect(try Posix.readFile(path, limit: 100) == bytes)
            #expect(throws: SystemError(errno: EFBIG, call: "read")) { try Posix.readFile(path, limit: 99) }
        }
        try withFile([]) { path throws in #expect(try Posix.readFile(path, limit: 0) == []) }
    }

    /// A file far past the limit fails too, whichever chunk crosses it (here the first of several).
    @Test func fileFarOverTheLimitIsEFBIG() throws {
        try withFile(Fixture.pattern(5 * 16384)) { path throws in
            #expect(throws: SystemError(errno: EFBIG, call: "read")) { try Posix.readFile(path, limit: 1000) }
            #expect(throws: SystemError(errno: EFBIG, call: "read")) { try Posix.readFile(path, limit: 3 * 16384) }
        }
    }
}
