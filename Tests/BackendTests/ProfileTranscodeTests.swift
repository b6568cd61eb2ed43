import Foundation
import Glibc
import Testing

/// REST→gRPC at an edge meshgate to profile-service's `profile.v1.Profiles` (issue 16), with the descriptor set
/// the repository ships: the bindings in profile.proto, errors mapped to HTTP, and requests that do not fit the
/// message stopped at the gateway.
@Suite struct ProfileTranscodeTests {
    static let descriptorSet = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("backends/protos/profile.pb").path

    @Test func restCallsReachProfileServiceAsGRPCAndComeBackAsJSON() throws {
        let profile = try ServiceProcess("profile-service")
        let directory = try ServiceProcess.temporaryDirectory("transcode")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let edge = try EdgeGateway(
            directory: directory,
            routes: """
                {"name": "profiles-v1", "match": {"path_prefix": "/v1"}, "upstream": "profile-grpc", "public": true,
                 "grpc_transcode": {"descriptor_set": "\(Self.descriptorSet)"}}
                """,
            upstreams: #""profile-grpc": {"endpoints": ["127.0.0.1:\#(profile.port)"], "protocol": "h2c"}"#)
        let alice = #"{"nickname":"Alice","avatar_url":"https://img.example/alice.png"}"#
        _ = try HTTPClient.json(port: profile.port, "PUT", "/profiles/alice", alice, headers: [("x-user-id", "alice")])

        let one = try HTTPClient.request(port: edge.port, "GET", "/v1/profiles/alice")
        #expect(one.status == 200 && one.header("content-type") == "application/json", "\(one.text)")
        #expect(one.text == #"{"user":"alice","nickname":"Alice","avatarUrl":"https://img.example/alice.png"}"#)
        let batch = try HTTPClient.json(port: edge.port, "POST", "/v1/profiles:batchGet", #"{"users":["nobody","alice"]}"#)
        #expect(batch.status == 200 && batch.text == #"{"profiles":["# + one.text + "]}", "\(batch.text)")

        let missing = try HTTPClient.request(port: edge.port, "GET", "/v1/profiles/nobody")
        #expect(missing.status == 404 && missing.errorCode == "not_found", "\(missing.text)")
        #expect(missing.json?["code"]?.int64Value == 5 && missing.json?["message"]?.stringValue?.contains("nobody") == true)
        let users = (0...100).map { "\"u\($0)\"" }.joined(separator: ",")
        let tooMany = try HTTPClient.json(port: edge.port, "POST", "/v1/profiles:batchGet", #"{"users":[\#(users)]}"#)
        #expect(tooMany.status == 400 && tooMany.errorCode == "invalid_argument", "\(tooMany.text)")
        let calls = profile.log().split(separator: "\n").filter { $0.contains(#""grpc_method""#) }.count
        #expect(calls == 4, "\(profile.log())")

        // Stopped at the gateway: the service sees no call for them.
        let wrongType = try HTTPClient.json(port: edge.port, "POST", "/v1/profiles:batchGet", #"{"users":"alice"}"#)
        #expect(wrongType.status == 400 && wrongType.errorCode == "invalid_argument", "\(wrongType.text)")
        let notJSON = try HTTPClient.json(port: edge.port, "POST", "/v1/profiles:batchGet", #"{"users":["#)
        #expect(notJSON.status == 400 && notJSON.errorCode == "invalid_argument", "\(notJSON.text)")
        let unbound = try HTTPClient.request(port: edge.port, "DELETE", "/v1/profiles/alice")
        #expect(unbound.status == 404 && unbound.errorCode == "no_route", "\(unbound.text)")
        #expect(profile.log().split(separator: "\n").filter { $0.contains(#""grpc_method""#) }.count == calls)
    }
}
