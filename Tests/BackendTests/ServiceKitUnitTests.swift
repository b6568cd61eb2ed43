import Foundation
import Testing

@testable import ServiceKit

/// In-process tests of ServiceKit's pure parts and its SQLite helper (real files in a temp directory).
@Suite struct ServiceKitUnitTests {
    static func router() -> Router {
        var router = Router()
        router.add("GET", "/profiles/{user}", name: "read") { _ in Response(status: 200) }
        router.add("PUT", "/profiles/{user}", name: "write") { _ in Response(status: 201) }
        router.add("GET", "/a/{x}/b/{y}", name: "two") { _ in Response(status: 202) }
        return router
    }

    @Test(arguments: [
        ("GET", "/profiles/alice", "read", ["user": "alice"]),
        ("HEAD", "/profiles/alice", "read", ["user": "alice"]),
        ("PUT", "/profiles/b%2Eb", "write", ["user": "b.b"]),
        ("GET", "/a/1/b/2", "two", ["x": "1", "y": "2"]),
    ])
    func routesMatchWithParameters(method: String, path: String, name: String, parameters: [String: String]) {
        guard case .found(let route, let bound) = Self.router().match(method: method, path: Substring(path)) else {
            Issue.record("no match for \(method) \(path)")
            return
        }
        #expect(route.name == name)
        #expect(bound == parameters)
    }

    @Test(arguments: ["/profiles", "/profiles/", "/profiles/a/b", "/a/1/b", "/", "/profilesx/a"])
    func nonMatchingPathsAreNotFound(_ path: String) {
        guard case .notFound = Self.router().match(method: "GET", path: Substring(path)) else {
            Issue.record("\(path) matched")
            return
        }
    }

    @Test func wrongMethodListsTheAllowedOnes() {
        guard case .methodNotAllowed(let allowed) = Self.router().match(method: "DELETE", path: "/profiles/x") else {
            Issue.record("expected 405")
            return
        }
        #expect(allowed == ["GET", "PUT"])
    }

    @Test(arguments: [
        ("abc", true), ("a.b-c_9", true), (String(repeating: "z", count: 32), true), ("ab", false),
        (String(repeating: "z", count: 33), false), ("Abc", false), ("a b", false), ("ab/c", false), ("ümlaut", false),
    ])
    func usernameRule(name: String, valid: Bool) {
        #expect(Username.isValid(name) == valid)
    }

    @Test(arguments: [
        ("127.0.0.1:9101", "127.0.0.1:9101"), ("[::1]:80", "[::1]:80"), ("localhost:1", "127.0.0.1:1"),
    ])
    func listenAddressesParse(text: String, expected: String) throws {
        #expect(try #require(ServiceOptions.parseAddress(text)).description == expected)
    }

    @Test(arguments: ["9101", "host:9101", "127.0.0.1:99999", "127.0.0.1:", ":80"])
    func badListenAddressesAreRejected(_ text: String) {
        #expect(ServiceOptions.parseAddress(text) == nil)
    }

    @Test func optionsKeepDefaultsAndExtraFlags() throws {
        let parsed = try ServiceOptions.parse(
            ["rotate-key", "--issuer", "me"],
            service: "svc",
            defaultListen: "127.0.0.1:9",
            extraFlags: ["issuer": "x"]
        ).get()
        #expect(parsed.dataDirectory == "./.meshgate-data/svc")
        #expect(parsed.listen.port == 9)
        #expect(parsed.extra["issuer"] == "me")
        #expect(parsed.positional == ["rotate-key"])
        #expect(
            (try? ServiceOptions.parse(
                ["--issuer"],
                service: "s",
                defaultListen: "127.0.0.1:9",
                extraFlags: ["issuer": "x"]
            ).get()) == nil
        )
    }

    @Test func queryStringsAreDecoded() {
        let query = Request.parseQuery("a=1&b=x%20y&c=p+q&flag&d=%zz")
        #expect(query.map(\.name) == ["a", "b", "c", "flag", "d"])
        #expect(query.map(\.value) == ["1", "x y", "p q", "", "%zz"])
    }

    @Test func deadlineHeader() {
        let now = WallClock.monotonicNanoseconds()
        #expect(ServiceServer.deadlineError(nil, startedNs: now) == nil)
        #expect(ServiceServer.deadlineError("1000", startedNs: now) == nil)
        #expect(ServiceServer.deadlineError("0", startedNs: now)?.status == 504)
        // Time is a parameter: a request that started 2 s ago with 1 s left at arrival is already late.
        #expect(ServiceServer.deadlineError("1000", startedNs: now - 2_000_000_000)?.status == 504)
        #expect(ServiceServer.deadlineError("soon", startedNs: now)?.status == 400)
    }

    @Test func rfc3339Timestamps() {
        #expect(WallClock.rfc3339(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(WallClock.rfc3339(milliseconds: 1_795_593_342_007) == "2026-11-25T07:55:42.007Z")
    }

    @Test func databaseMigratesOnceAndKeepsData() throws {
        let directory = try ServiceProcessDirectory()
        let path = directory.path + "/t.sqlite3"
        let migrations = ["CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER);", "ALTER TABLE t ADD COLUMN w TEXT;"]
        do {
            let database = try Database(path: path)
            try database.migrate(Array(migrations.prefix(1)))
            #expect(try database.schemaVersion() == 1)
            try database.execute("INSERT INTO t (k, v) VALUES (?, ?)", [.text("a"), .integer(1)])
            #expect(throws: SQLiteError.self) {
                try database.execute("INSERT INTO t (k, v) VALUES (?, ?)", [.text("a"), .integer(2)])
            }
        }
        let reopened = try Database(path: path)
        try reopened.migrate(migrations)
        #expect(try reopened.schemaVersion() == 2)
        #expect(try reopened.query("SELECT k, v, w FROM t") == [[.text("a"), .integer(1), .null]])
        #expect(try reopened.query("PRAGMA journal_mode").first?.first?.text == "wal")
        #expect(try reopened.query("PRAGMA synchronous").first?.first?.integer == 2)  // 2 = FULL
        #expect(throws: SQLiteError.self) { try reopened.migrate(Array(migrations.prefix(1))) }
    }

    @Test func failedTransactionRollsBack() throws {
        let directory = try ServiceProcessDirectory()
        let database = try Database(path: directory.path + "/r.sqlite3")
        try database.migrate(["CREATE TABLE t (k TEXT PRIMARY KEY);"])
        #expect(throws: SQLiteError.self) {
            try database.transaction { () throws(SQLiteError) in
                try database.execute("INSERT INTO t VALUES ('x')")
                try database.execute("INSERT INTO t VALUES ('x')")
            }
        }
        #expect(try database.query("SELECT count(*) FROM t") == [[.integer(0)]])
    }
}

/// A temporary directory removed when the value goes away.
final class ServiceProcessDirectory {
    let path: String
    init() throws { path = try ServiceProcess.temporaryDirectory("unit") }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}
