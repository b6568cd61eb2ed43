import Foundation
import Glibc
import Testing

/// profile-service's `profile.v1.Profiles` over h2c on its HTTP port, called by Python `grpcio` (issue 16).
@Suite struct ProfileGRPCTests {
    /// A profile-service with alice's and bob's profiles (bob without an avatar).
    static func service() throws -> ServiceProcess {
        let service = try ServiceProcess("profile-service")
        let alice = #"{"nickname":"Alice","avatar_url":"https://img.example/alice.png"}"#
        _ = try HTTPClient.json(port: service.port, "PUT", "/profiles/alice", alice, headers: [("x-user-id", "alice")])
        _ = try HTTPClient.json(port: service.port, "PUT", "/profiles/bob", #"{"nickname":"Bob"}"#,
            headers: [("x-user-id", "bob")])
        return service
    }

    static func getProfile(_ port: UInt16, _ user: String, metadata: [(String, String)] = []) throws
        -> GRPCPythonClient.Outcome
    {
        try GRPCPythonClient.call(
            port: port, "GetProfile", request: "GetProfileRequest", response: "Profile", fields: ["user": user],
            metadata: metadata)
    }

    static func getProfiles(_ port: UInt16, _ users: [String]) throws -> GRPCPythonClient.Outcome {
        try GRPCPythonClient.call(
            port: port, "GetProfiles", request: "GetProfilesRequest", response: "GetProfilesResponse",
            fields: ["users": users])
    }

    @Test func getProfileAnswersTheStoredProfile() throws {
        let service = try Self.service()
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let outcome = try Self.getProfile(service.port, "alice", metadata: [("traceparent", traceparent)])
        #expect(outcome.code == "OK")
        #expect(outcome.reply["user"] as? String == "alice")
        #expect(outcome.reply["nickname"] as? String == "Alice")
        #expect(outcome.reply["avatar_url"] as? String == "https://img.example/alice.png")
        // The call's log line carries the caller's trace id, as the HTTP side's do.
        #expect(service.log().contains("\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\""))
        #expect(service.log().contains("\"grpc_method\":\"GetProfile\""))
        // And HTTP/1 still works on the same port after an h2c connection.
        #expect(try HTTPClient.request(port: service.port, "GET", "/profiles/alice").status == 200)
    }

    @Test func getProfileOfAnUnknownUserIsNotFound() throws {
        let service = try Self.service()
        let outcome = try Self.getProfile(service.port, "nobody")
        #expect(outcome.code == "NOT_FOUND")
        #expect(outcome.message == "no profile for nobody")
        #expect(try Self.getProfile(service.port, "NOT A NAME").code == "INVALID_ARGUMENT")
    }

    @Test func getProfilesAnswersKnownUsersInOrderAndLeavesOutUnknownOnes() throws {
        let service = try Self.service()
        let outcome = try Self.getProfiles(service.port, ["bob", "nobody", "alice", "bob"])
        #expect(outcome.code == "OK")
        let profiles = try #require(outcome.reply["profiles"] as? [[String: Any]])
        #expect(profiles.map { $0["user"] as? String } == ["bob", "alice"])
        #expect(profiles[0]["nickname"] as? String == "Bob")
        #expect(profiles[0]["avatar_url"] == nil)  // unset: proto3's default, not written
        #expect(profiles[1]["avatar_url"] as? String == "https://img.example/alice.png")
        // An empty batch is an empty answer.
        let empty = try Self.getProfiles(service.port, [])
        #expect(empty.code == "OK")
        #expect(empty.reply["profiles"] == nil)
    }

    @Test func aBatchOverTheLimitIsInvalidArgument() throws {
        let service = try Self.service()
        let users = (0..<101).map { "user\($0)" }
        let outcome = try Self.getProfiles(service.port, users)
        #expect(outcome.code == "INVALID_ARGUMENT")
        #expect(outcome.message.contains("at most 100"))
        #expect(try Self.getProfiles(service.port, Array(users.prefix(100))).code == "OK")
    }

    @Test func anUnknownMethodIsUnimplemented() throws {
        let service = try Self.service()
        let outcome = try GRPCPythonClient.call(
            port: service.port, "DeleteProfile", request: "GetProfileRequest", response: "Profile",
            fields: ["user": "alice"])
        #expect(outcome.code == "UNIMPLEMENTED")
    }

    @Test func metricsCountEveryCallByMethodAndCode() throws {
        let service = try Self.service()
        _ = try Self.getProfile(service.port, "alice")
        _ = try Self.getProfile(service.port, "nobody")
        _ = try Self.getProfiles(service.port, (0..<101).map { "user\($0)" })
        _ = try GRPCPythonClient.call(
            port: service.port, "Nope", request: "GetProfileRequest", response: "Profile", fields: [:])
        let metrics = try HTTPClient.request(port: service.port, "GET", "/metrics").text
        let prefix = #"grpc_server_handled_total{grpc_service="profile.v1.Profiles","#
        #expect(metrics.contains(prefix + #"grpc_method="GetProfile",grpc_code="OK"} 1"#))
        #expect(metrics.contains(prefix + #"grpc_method="GetProfile",grpc_code="NOT_FOUND"} 1"#))
        #expect(metrics.contains(prefix + #"grpc_method="GetProfiles",grpc_code="INVALID_ARGUMENT"} 1"#))
        #expect(metrics.contains(prefix + #"grpc_method="GetProfiles",grpc_code="UNAVAILABLE"} 0"#))
        #expect(
            metrics.contains(
                #"grpc_server_handled_total{grpc_service="unknown",grpc_method="unknown",grpc_code="UNIMPLEMENTED"} 1"#))
        #expect(
            metrics.contains(
                #"grpc_server_handling_seconds_count{grpc_service="profile.v1.Profiles",grpc_method="GetProfile"} 2"#))
    }

    /// A client-streaming call with two messages to a unary method is INTERNAL, and is counted like any call.
    @Test func twoRequestMessagesAreInternal() throws {
        let service = try Self.service()
        let script = """
            import grpc, sys
            call = grpc.insecure_channel("127.0.0.1:" + sys.argv[1]).stream_unary("/profile.v1.Profiles/GetProfile")
            try:
                call(iter([b"\\x0a\\x05alice", b"\\x0a\\x03bob"]), timeout=10)
                print("OK")
            except grpc.RpcError as e:
                print(e.code().name)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, "\(service.port)"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(printed.trimmingCharacters(in: .whitespacesAndNewlines) == "INTERNAL")
        let metrics = try HTTPClient.request(port: service.port, "GET", "/metrics").text
        #expect(
            metrics.contains(
                #"grpc_server_handled_total{grpc_service="profile.v1.Profiles",grpc_method="GetProfile",grpc_code="INTERNAL"} 1"#
            ))
    }
}
