import Foundation
import Glibc
import MeshJSON
import Testing

/// relationship-service's list answers carry each user's nickname and avatar from profile-service, fetched with
/// one GetProfiles call over h2c through its meshgate sidecar; degraded (default avatar, empty nickname), never
/// failed, when that call fails (issue 16).
@Suite struct ProfileEnrichmentTests {
    static let defaultAvatar = "/static/default.png"

    /// (user, nickname, avatar_url) of each entry of `profiles`, and `profiles_degraded`.
    static func cards(_ reply: HTTPReply) -> ([[String]], Bool?) {
        let profiles = reply.json?["profiles"]?.arrayValue ?? []
        let cards = profiles.map { p in
            ["user", "nickname", "avatar_url"].map { p[$0]?.stringValue ?? "?" }
        }
        return (cards, reply.json?["profiles_degraded"]?.boolValue)
    }

    @Test func withoutTheOptionListsCarryDefaultProfiles() throws {
        let service = try ServiceProcess("relationship-service")
        for follower in ["alice", "carol"] {
            _ = try HTTPClient.request(port: service.port, "PUT", "/follows/bob", headers: [("x-user-id", follower)])
        }
        let reply = try HTTPClient.request(port: service.port, "GET", "/followers/bob")
        #expect(reply.status == 200)
        #expect(reply.json?["users"]?.arrayValue?.compactMap(\.stringValue) == ["alice", "carol"])
        let (cards, degraded) = Self.cards(reply)
        #expect(cards == [["alice", "", Self.defaultAvatar], ["carol", "", Self.defaultAvatar]])
        #expect(degraded == false)
    }

    @Test func anInvalidProfilesAddressIsAUsageError() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServiceProcess.binaryDirectory + "/relationship-service")
        process.arguments = ["--profiles-grpc", "profile:9102"]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 2)
    }

    /// The whole path: enrichment, degradation when profile-service dies, the sidecar's breaker opening, and
    /// enrichment again once profile-service is back and the (shortened) open period is over; the edge request's
    /// trace id in both services' logs.
    @Test func listsCarryProfilesThroughTheSidecarAndDegradeWhenProfileServiceIsDown() throws {
        let stack = try SidecarStack(edits: [(#""open_ms": 30000"#, #""open_ms": 1500"#)])
        let alice = #"{"nickname":"Alice","avatar_url":"https://img.example/alice.png"}"#
        let put = try HTTPClient.json(
            port: stack.profile.port, "PUT", "/profiles/alice", alice, headers: [("x-user-id", "alice")])
        #expect(put.status == 200)
        try stack.follow("bob", by: ["alice", "carol"])

        let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        let enriched = try stack.get(
            "/followers/bob", headers: [("traceparent", "00-\(traceID)-00f067aa0ba902b7-01")])
        #expect(enriched.status == 200)
        let (cards, degraded) = Self.cards(enriched)
        #expect(cards == [["alice", "Alice", "https://img.example/alice.png"], ["carol", "", Self.defaultAvatar]])
        #expect(degraded == false, "\(enriched.text)")
        // The trace goes on: relationship-service's line (in the sidecar's output), the sidecar's own access
        // line, and profile-service's line of the gRPC call all carry it.
        // (The sidecar writes its access lines off the request path: wait a moment for them.)
        var sidecarLines: [Substring] = []
        for _ in 0..<200 {
            sidecarLines = stack.log().split(separator: "\n").filter { $0.contains(traceID) }
            if sidecarLines.contains(where: { $0.contains(#""route":"profiles-grpc""#) }) { break }
            usleep(10_000)
        }
        #expect(sidecarLines.contains { $0.contains(#""service":"relationship-service""#) }, "\(stack.log())")
        #expect(sidecarLines.contains { $0.contains(#""route":"profiles-grpc""#) }, "\(stack.log())")
        #expect(
            stack.profile.log().split(separator: "\n").contains {
                $0.contains(traceID) && $0.contains(#""grpc_method":"GetProfiles""#)
            }, "\(stack.profile.log())")

        stack.profile.stop(SIGKILL)
        // Every answer is a 200 with the defaults; the breaker (5 consecutive failures, each call making up to 3
        // attempts) opens within a few calls.
        var calls = 0
        while try stack.breaker() != "open" && calls < 10 {
            let reply = try stack.get("/followers/bob")
            #expect(reply.status == 200)
            let (cards, degraded) = Self.cards(reply)
            #expect(cards == [["alice", "", Self.defaultAvatar], ["carol", "", Self.defaultAvatar]])
            #expect(degraded == true)
            calls += 1
        }
        #expect(try stack.breaker() == "open", "after \(calls) calls")
        // Open: the sidecar fails the call at once (UNAVAILABLE), the list is still answered.
        let whileOpen = try stack.get("/followers/bob")
        #expect(whileOpen.status == 200)
        #expect(Self.cards(whileOpen).1 == true)
        let metrics = try stack.get("/metrics").text
        let degradedCount = metrics.split(separator: "\n").first { $0.hasPrefix("profile_lookup_degraded_total ") }
        #expect(degradedCount.flatMap { Double($0.split(separator: " ")[1]) } ?? 0 >= Double(calls + 1))
        #expect(stack.log().contains("profile lookup failed; answering with default profiles"))

        try stack.profile.restart()
        // Once the open period is over, a half-open probe gets through and enrichment is back.
        var recovered: HTTPReply?
        for _ in 0..<100 {
            let reply = try stack.get("/followers/bob")
            if Self.cards(reply).1 == false {
                recovered = reply
                break
            }
            usleep(100_000)
        }
        let back = try #require(recovered, "enrichment never came back: \(stack.log())")
        #expect(Self.cards(back).0.first == ["alice", "Alice", "https://img.example/alice.png"])
        #expect(try stack.breaker() == "closed")
    }

    /// An edge meshgate in front (a public route, so no auth-service is needed): the trace id of the edge
    /// request reaches the edge's log, relationship-service's, the sidecar's and profile-service's.
    @Test func theEdgeRequestsTraceIDReachesEveryHop() throws {
        let stack = try SidecarStack()
        let alice = #"{"nickname":"Alice"}"#
        _ = try HTTPClient.json(
            port: stack.profile.port, "PUT", "/profiles/alice", alice, headers: [("x-user-id", "alice")])
        try stack.follow("bob", by: ["alice"])
        let edge = try EdgeGateway(
            directory: stack.directory,
            routes: """
                {"name": "followers", "match": {"path_template": "/followers/{user}", "methods": ["GET"]},
                 "upstream": "relationships", "public": true}
                """,
            upstreams: #""relationships": {"endpoints": ["127.0.0.1:\#(stack.relationshipsPort)"]}"#)
        let traceID = "0af7651916cd43dd8448eb211c80319c"
        let reply = try HTTPClient.request(
            port: edge.port, "GET", "/followers/bob", headers: [("traceparent", "00-\(traceID)-b7ad6b7169203331-01")])
        #expect(reply.status == 200)
        #expect(Self.cards(reply).0 == [["alice", "Alice", Self.defaultAvatar]], "\(reply.text)")
        // Access lines are written off the request path: wait a moment for every one.
        func logged() -> (edge: Bool, relationships: Bool, sidecar: Bool, profile: Bool) {
            let edgeLog = edge.log()
            let sidecarLines = stack.log().split(separator: "\n").filter { $0.contains(traceID) }
            return (
                edgeLog.contains(traceID),
                sidecarLines.contains { $0.contains(#""service":"relationship-service""#) },
                sidecarLines.contains { $0.contains(#""route":"profiles-grpc""#) },
                stack.profile.log().contains(traceID)
            )
        }
        for _ in 0..<200 where logged() != (true, true, true, true) { usleep(10_000) }
        let seen = logged()
        #expect(seen.edge, "edge gateway")
        #expect(seen.relationships, "relationship-service: \(stack.log())")
        #expect(seen.sidecar, "the sidecar's access line")
        #expect(seen.profile, "profile-service: \(stack.profile.log())")
    }
}
