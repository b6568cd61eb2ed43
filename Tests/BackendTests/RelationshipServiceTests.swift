import Foundation
import Glibc
import Testing

/// relationship-service over real sockets: idempotent follow/unfollow as the `x-user-id` caller, lists, friends,
/// keyset paging, and bad input.
@Suite struct RelationshipServiceTests {
    static func follow(
        _ service: ServiceProcess,
        _ caller: String,
        _ target: String,
        _ method: String = "PUT"
    ) throws
        -> HTTPReply
    {
        try HTTPClient.request(port: service.port, method, "/follows/\(target)", headers: [("x-user-id", caller)])
    }

    static func users(_ service: ServiceProcess, _ path: String) throws -> (users: [String], next: String?) {
        let reply = try HTTPClient.request(port: service.port, "GET", path)
        #expect(reply.status == 200, "\(path): \(reply.text)")
        let json = try #require(reply.json)
        return (json["users"]?.arrayValue?.compactMap(\.stringValue) ?? [], json["next"]?.stringValue)
    }

    @Test func followUnfollowIsIdempotentAndListsAgree() throws {
        let service = try ServiceProcess("relationship-service")
        let first = try Self.follow(service, "alice", "bob")
        #expect(first.status == 200)
        #expect(first.json?["changed"]?.boolValue == true)
        let repeated = try Self.follow(service, "alice", "bob")
        #expect(repeated.status == 200)
        #expect(repeated.json?["changed"]?.boolValue == false)
        #expect(try Self.users(service, "/following/alice").users == ["bob"])
        #expect(try Self.users(service, "/followers/bob").users == ["alice"])
        #expect(try Self.users(service, "/friends/alice").users.isEmpty)
        #expect(try Self.follow(service, "alice", "bob", "DELETE").json?["changed"]?.boolValue == true)
        #expect(try Self.follow(service, "alice", "bob", "DELETE").status == 200)
        #expect(try Self.users(service, "/following/alice").users.isEmpty)
        #expect(try Self.users(service, "/followers/bob").users.isEmpty)
    }

    @Test func friendsAreMutualFollows() throws {
        let service = try ServiceProcess("relationship-service")
        for (a, b) in [("ann", "ben"), ("ben", "ann"), ("ann", "cat"), ("dan", "ann"), ("ann", "eve"), ("eve", "ann")] {
            #expect(try Self.follow(service, a, b).status == 200)
        }
        #expect(try Self.users(service, "/friends/ann").users == ["ben", "eve"])
        #expect(try Self.users(service, "/friends/ben").users == ["ann"])
        #expect(try Self.users(service, "/friends/cat").users.isEmpty)
        #expect(try Self.users(service, "/followers/ann").users == ["ben", "dan", "eve"])
        #expect(try Self.users(service, "/following/ann").users == ["ben", "cat", "eve"])
    }

    @Test func pagingWalksTheWholeListOnce() throws {
        let service = try ServiceProcess("relationship-service")
        let fans = (0..<7).map { "fan\($0)" }
        for fan in fans { _ = try Self.follow(service, fan, "star") }
        var seen: [String] = []
        var after = ""
        var pages = 0
        while true {
            let page = try Self.users(service, "/followers/star?limit=3&after=\(after)")
            seen += page.users
            pages += 1
            guard let next = page.next else { break }
            #expect(page.users.count == 3)
            after = next
        }
        #expect(seen == fans)
        #expect(pages == 3)
        #expect(try Self.users(service, "/followers/star").users.count == 7)
        #expect(try Self.users(service, "/followers/star?limit=7").next == nil)
    }

    @Test func badInputIs4xxJSON() throws {
        let service = try ServiceProcess("relationship-service")
        let selfFollow = try Self.follow(service, "gus", "gus")
        #expect(selfFollow.status == 400)
        #expect(selfFollow.errorCode == "bad_request")
        let anonymous = try HTTPClient.request(port: service.port, "PUT", "/follows/gus")
        #expect(anonymous.status == 401)
        #expect(anonymous.errorCode == "unauthorized")
        #expect(try Self.follow(service, "gus", "BAD NAME").status == 400)
        #expect(try Self.follow(service, "x", "gus").status == 400)
        for query in ["limit=0", "limit=101", "limit=ten", "limit=-1", "after=NOT_VALID"] {
            let reply = try HTTPClient.request(port: service.port, "GET", "/followers/gus?\(query)")
            #expect(reply.status == 400, "\(query)")
            #expect(reply.errorCode == "bad_request")
        }
        #expect(try HTTPClient.request(port: service.port, "POST", "/follows/gus").status == 405)
        #expect(try HTTPClient.request(port: service.port, "GET", "/friends/").status == 404)
        // Unknown users simply have empty lists: this service owns no user table (SPEC §8: no shared tables).
        #expect(try Self.users(service, "/friends/never-seen").users.isEmpty)
        #expect(service.isRunning)
    }

    @Test func followSurvivesKill9() throws {
        let service = try ServiceProcess("relationship-service")
        #expect(try Self.follow(service, "hal", "ida").status == 200)
        #expect(service.stop(SIGKILL) == -SIGKILL)
        try service.restart()
        #expect(try Self.users(service, "/following/hal").users == ["ida"])
    }
}
