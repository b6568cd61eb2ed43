import MeshTestSupport
import Foundation
import ServiceKit
import Testing

/// backends/protos: the committed descriptor set is what protoc makes of the committed .proto files, so the
/// gateway and the demo (which load profile.pb, never protoc) cannot drift from the contract.
@Suite struct ProfileProtoTests {
    /// The repository's backends/protos directory.
    static let protos = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("backends/protos").path

    /// Runs `/usr/bin/protoc arguments…` in `protos`; returns its stdout, fails the test on a non-zero exit.
    static func protoc(_ arguments: [String], stdin: Data? = nil) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/protoc")
        process.arguments = ["-I", protos] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: protos)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        process.standardInput = input
        try process.run()
        input.fileHandleForWriting.write(stdin ?? Data())
        try input.fileHandleForWriting.close()
        let bytes = out.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestSupportError("protoc \(arguments) failed (install protobuf-compiler?): \(errors)")
        }
        return bytes
    }

    @Test func committedDescriptorSetMatchesProtoc() throws {
        let directory = try ServiceProcess.temporaryDirectory("protos")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fresh = directory + "/profile.pb"
        _ = try Self.protoc(["--include_imports", "--descriptor_set_out=" + fresh, "profile/v1/profile.proto"])
        let committed = try Data(contentsOf: URL(fileURLWithPath: Self.protos + "/profile.pb"))
        let made = try Data(contentsOf: URL(fileURLWithPath: fresh))
        #expect(
            committed == made,
            "backends/protos/profile.pb is stale: regenerate it with the protoc command in profile.proto"
        )
    }

    /// The hand-written messages (`ProfilesV1`, shared by both services) against protoc's encoder and decoder.
    @Test func handWrittenMessagesMatchProtoc() throws {
        let alice = ProfilesV1.Profile(user: "alice", nickname: "Älice ✓", avatarURL: "https://img.example/a.png")
        let bob = ProfilesV1.Profile(user: "bob", nickname: "", avatarURL: "")
        let text = """
            profiles { user: "alice" nickname: "\\303\\204lice \\342\\234\\223" avatar_url: "https://img.example/a.png" }
            profiles { user: "bob" }
            """
        let encoded = try Self.protoc(
            ["--encode=profile.v1.GetProfilesResponse", "profile/v1/profile.proto"], stdin: Data(text.utf8))
        #expect(Array(encoded) == ProfilesV1.encode([alice, bob]))
        #expect(try ProfilesV1.decodeProfiles(Array(encoded)) == [alice, bob])
        let request = try Self.protoc(
            ["--encode=profile.v1.GetProfilesRequest", "profile/v1/profile.proto"],
            stdin: Data(#"users: "alice" users: "" users: "bob""#.utf8))
        #expect(Array(request) == ProfilesV1.encodeUsers(["alice", "", "bob"]))
        #expect(try ProfilesV1.decodeStrings(Array(request)) == ["alice", "", "bob"])
        // Unknown fields (here a varint 9 and a string 7) are skipped, as proto3 readers do.
        let withUnknown: [UInt8] = [0x48, 0x01, 0x3A, 0x01, 0x78] + ProfilesV1.encode(alice)
        #expect(try ProfilesV1.decodeProfile(withUnknown) == alice)
        #expect(throws: (any Error).self) { try ProfilesV1.decodeProfile([0x0A, 0x05, 0x61]) }
    }
}
