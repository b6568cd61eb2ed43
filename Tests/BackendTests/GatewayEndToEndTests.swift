import Foundation
import Glibc
import Testing

/// The backends behind a real `meshgate run` child, configured by a copy of the top-level routes.json moved to
/// free ports (SPEC §8's table).
@Suite
struct GatewayEndToEndTests {
    @Test func registerLoginProfileFollowFriendsThroughTheGateway() throws {
        let stack = try DegradationStack(workers: 1)
        let alice = try stack.login("alice")
        let bob = try stack.login("bob")
        _ = try stack.login("carol")

        let put = try stack.call("PUT", "/profiles/alice", token: alice, json: #"{"nickname":"Alice"}"#)
        #expect(put.status == 200, "\(put.text)")
        let get = try stack.call("GET", "/profiles/alice", token: alice)
        #expect(get.status == 200)
        #expect(get.json?["nickname"]?.stringValue == "Alice")

        #expect(try stack.call("PUT", "/follows/bob", token: alice).status == 200)
        #expect(try stack.call("PUT", "/follows/carol", token: alice).status == 200)
        #expect(try stack.call("PUT", "/follows/alice", token: bob).status == 200)
        let friends = try stack.call("GET", "/friends/alice", token: alice)
        #expect(friends.status == 200)
        #expect(friends.json?["users"]?.arrayValue?.compactMap(\.stringValue) == ["bob"])
        let following = try stack.call("GET", "/following/alice", token: alice)
        #expect(following.json?["users"]?.arrayValue?.compactMap(\.stringValue) == ["bob", "carol"])
    }

    @Test func gatewayEnforcesIdentity() throws {
        let stack = try DegradationStack(workers: 1)
        let alice = try stack.login("alice")
        _ = try stack.login("bob")
        // Someone else's profile: the backend sees x-user-id alice and refuses.
        let other = try stack.call("PUT", "/profiles/bob", token: alice, json: #"{"nickname":"hijack"}"#)
        #expect(other.status == 403)
        // No token: the gateway answers 401 before any backend is involved.
        let anonymous = try stack.call("PUT", "/profiles/alice", json: #"{"nickname":"anon"}"#)
        #expect(anonymous.status == 401)
        #expect(anonymous.header("www-authenticate")?.hasPrefix("Bearer") == true)
        // A forged x-user-id is replaced by the token's sub (SPEC §3: claim headers are stripped first).
        let forged = try stack.call(
            "PUT",
            "/profiles/bob",
            token: alice,
            json: #"{"nickname":"forged"}"#,
            headers: [("x-user-id", "bob")]
        )
        #expect(forged.status == 403)
        let forgedNoToken = try stack.call("PUT", "/profiles/bob", json: "{}", headers: [("x-user-id", "bob")])
        #expect(forgedNoToken.status == 401)
        let bobProfile = try stack.call("GET", "/profiles/bob", token: alice)
        #expect(bobProfile.json?["nickname"]?.stringValue != "forged")
        #expect(bobProfile.json?["nickname"]?.stringValue != "hijack")
    }
}
