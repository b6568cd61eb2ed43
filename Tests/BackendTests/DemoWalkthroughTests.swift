import Foundation
import Glibc
import Testing

/// The curl session `meshgate demo` prints is run as printed (with `/bin/sh` and the system's curl), so the
/// walkthrough a user copies from the terminal keeps working as the services and routes change.
@Suite struct DemoWalkthroughTests {
    static let curlAvailable = access("/usr/bin/curl", X_OK) == 0

    /// The printed walkthrough: everything after the "Ctrl-C stops everything." line.
    static func walkthrough(_ output: String) throws -> String {
        let marker = "Ctrl-C stops everything."
        let range = try #require(output.range(of: marker), "no walkthrough in: \(output)")
        return String(output[range.upperBound...])
    }

    /// Runs `script` with `/bin/sh` and returns its stdout and stderr, together.
    static func shell(_ script: String, in directory: String) throws -> (status: Int32, output: String) {
        let path = directory + "/walkthrough.sh"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(.enabled(if: curlAvailable, "needs /usr/bin/curl"))
    func printedWalkthroughRunsAsPrinted() throws {
        let directory = try DemoCommandTests.DemoDirectory()
        let demo = try directory.start()
        defer {
            kill(demo.processIdentifier, SIGTERM)
            demo.waitUntilExit()
            // The directory (removed by its deinit) must outlive the demo running in it.
            withExtendedLifetime(directory) {}
        }
        try directory.waitRunning(demo)
        let script = try Self.walkthrough(directory.output("demo.out"))
        // An `echo` after each command (after its last continuation line) puts every output on its own line.
        var separated = ""
        var continued = false
        for line in script.split(separator: "\n", omittingEmptySubsequences: false) {
            separated += line + "\n"
            let ends = !line.hasSuffix("\\")
            if ends && (continued || line.hasPrefix("curl ")) { separated += "echo\n" }
            continued = !ends
        }
        // Run where the demo runs, as its user does: the HTTPS commands name the certificate by a relative path.
        let (status, output) = try Self.shell("set -e\ncd '\(directory.path)'\n" + separated, in: directory.path)
        #expect(status == 0, "\(output)")
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.contains(#"{"username":"alice"}"#), "\(output)")
        #expect(lines.contains(#"{"username":"bob"}"#))
        let profile =
            #"{"user":"alice","nickname":"Alice","avatar_url":"https://example.com/alice.png","#
            + #""preferences":{"theme":"dark"}}"#
        #expect(lines.filter { $0 == profile }.count == 3, "PUT, GET and GET over HTTPS answer the profile")
        #expect(lines.contains("2"), "curl --http2 over the HTTPS listener negotiated HTTP/2 (ALPN h2)")
        #expect(lines.contains { $0.hasPrefix("HTTP/1.1 403") }, "someone else's profile")
        #expect(lines.contains { $0.hasPrefix("HTTP/1.1 401") }, "no token")
        // REST→gRPC at the edge (issue 16): GetProfile, and GetProfiles leaving out bob, who has no profile.
        let transcoded = #"{"user":"alice","nickname":"Alice","avatarUrl":"https://example.com/alice.png"}"#
        #expect(lines.contains(transcoded), "\(output)")
        #expect(lines.contains(#"{"profiles":["# + transcoded + "]}"), "\(output)")
        #expect(lines.contains(#"{"follower":"alice","followee":"bob","following":true,"changed":true}"#))
        let friends =
            #"{"users":["bob"],"profiles":[{"user":"bob","nickname":"","avatar_url":"/static/default.png"}],"#
            + #""profiles_degraded":false,"next":null}"#
        #expect(lines.contains(friends), "friends, with bob's profile fields (he has set none)")
        #expect(lines.filter { $0.hasPrefix("# HELP") }.count >= 2, "both /metrics answered")
        // Followers with profiles, through relationship-service's sidecar; then, profile-service stopped, the
        // same list with the defaults (issue 16).
        let alice = #"{"user":"alice","nickname":"Alice","avatar_url":"https://example.com/alice.png"}"#
        #expect(
            lines.contains(#"{"users":["alice"],"profiles":["# + alice + #"],"profiles_degraded":false,"next":null}"#),
            "\(output)")
        let degraded = #"{"user":"alice","nickname":"","avatar_url":"/static/default.png"}"#
        #expect(
            lines.contains(#"{"users":["alice"],"profiles":["# + degraded + #"],"profiles_degraded":true,"next":null}"#),
            "\(output)")
        #expect(directory.output("demo.out").contains("as the app of its meshgate sidecar"))
    }
}
