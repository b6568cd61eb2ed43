import Foundation
import Glibc
import Testing

/// The backends behind a real `meshgate run` child, configured by a copy of the top-level routes.json moved to
/// free ports (SPEC §8's table).
@Suite
struct GatewayEndToEndTests {
    /// The three backends and a gateway in front of them.
    final class Stack {
        let auth: ServiceProcess
        let profile: ServiceProcess
        let relationships: ServiceProcess
        let gateway: Process
        let edgePort: UInt16
        let directory: String

        init() throws {
            auth = try ServiceProcess("auth-service")
            profile = try ServiceProcess("profile-service")
            relationships = try ServiceProcess("relationship-service")
            directory = try ServiceProcess.temporaryDirectory("e2e")
            edgePort = try ServiceProcess.freePort()
            let adminPort = try ServiceProcess.freePort()
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("routes.json")
            let config = try String(contentsOf: source, encoding: .utf8)
                .replacingOccurrences(of: "\"$schema\": \"./routes.schema.json\",", with: "")
                .replacingOccurrences(of: "127.0.0.1:9101", with: "127.0.0.1:\(auth.port)")
                .replacingOccurrences(of: "127.0.0.1:9102", with: "127.0.0.1:\(profile.port)")
                .replacingOccurrences(of: "127.0.0.1:9103", with: "127.0.0.1:\(relationships.port)")
                .replacingOccurrences(of: "127.0.0.1:8080", with: "127.0.0.1:\(edgePort)")
                .replacingOccurrences(of: "127.0.0.1:9901", with: "127.0.0.1:\(adminPort)")
            try config.write(toFile: directory + "/routes.json", atomically: true, encoding: .utf8)
            gateway = Process()
            gateway.executableURL = URL(fileURLWithPath: ServiceProcess.binaryDirectory + "/meshgate")
            gateway.arguments = ["run", "--config", directory + "/routes.json", "--workers", "1"]
            let log = directory + "/gateway.log"
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            gateway.standardOutput = handle
            gateway.standardError = handle
            try gateway.run()
            try waitForEdge()
        }

        deinit {
            if gateway.isRunning {
                kill(gateway.processIdentifier, SIGTERM)
                gateway.waitUntilExit()
            }
            try? FileManager.default.removeItem(atPath: directory)
        }

        /// Bounded poll (15 s) until the edge listener answers the public JWKS route.
        private func waitForEdge() throws {
            for _ in 0..<1500 {
                guard gateway.isRunning else { throw HTTPClientError(description: "meshgate exited: \(log())") }
                if let reply = try? HTTPClient.request(port: edgePort, "GET", "/auth/.well-known/jwks.json"),
                    reply.status == 200
                {
                    return
                }
                usleep(10_000)
            }
            throw HTTPClientError(description: "meshgate never answered: \(log())")
        }

        func log() -> String { (try? String(contentsOfFile: directory + "/gateway.log", encoding: .utf8)) ?? "" }

        func call(
            _ method: String,
            _ path: String,
            token: String? = nil,
            json: String? = nil,
            headers: [(String, String)] = []
        ) throws -> HTTPReply {
            var all = headers
            if let token { all.append(("authorization", "Bearer \(token)")) }
            if let json { return try HTTPClient.json(port: edgePort, method, path, json, headers: all) }
            return try HTTPClient.request(port: edgePort, method, path, headers: all)
        }

        func login(_ user: String) throws -> String {
            let password = "\(user)-password"
            let register = try call(
                "POST",
                "/auth/register",
                json: #"{"username":"\#(user)","password":"\#(password)"}"#
            )
            #expect(register.status == 201, "register \(user): \(register.text)")
            let login = try call("POST", "/auth/login", json: #"{"username":"\#(user)","password":"\#(password)"}"#)
            #expect(login.status == 200, "login \(user): \(login.text)")
            return try #require(login.json?["access_token"]?.stringValue)
        }
    }

    @Test func registerLoginProfileFollowFriendsThroughTheGateway() throws {
        let stack = try Stack()
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
        let stack = try Stack()
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
