import Foundation
import MeshJSON
import Testing

/// The shipped sidecar-relationships.json: `meshgate check` accepts it, and it carries the design's numbers for
/// the profile lookup (issue 16: 3 s timeout, 2 retries with back-off, breaker 5 failures / 30 s, h2c upstream).
@Suite struct SidecarConfigTests {
    @Test func meshgateCheckAcceptsIt() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("sidecar-relationships.json").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServiceProcess.binaryDirectory + "/meshgate")
        process.arguments = ["check", "--config", path]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(printed)")
    }

    @Test func itHasTheDesignsTimeoutRetriesAndBreaker() throws {
        let config = try JSONReader.parse(Array(try SidecarStack.shippedConfig().utf8))
        let listener = try #require(config["listeners"]?.arrayValue?.first)
        #expect(listener["address"]?.stringValue == "127.0.0.1:15102")
        let route = try #require(listener["routes"]?.arrayValue?.first)
        #expect(route["match"]?["path_prefix"]?.stringValue == "/profile.v1.Profiles/")
        #expect(route["timeout_ms"]?.int64Value == 3000)
        #expect(route["retry"]?["retries"]?.int64Value == 2)
        #expect(route["retry"]?["backoff_base_ms"]?.int64Value ?? 0 > 0)
        let upstream = try #require(config["upstreams"]?[route["upstream"]?.stringValue ?? ""])
        #expect(upstream["protocol"]?.stringValue == "h2c")
        #expect(upstream["endpoints"]?.arrayValue?.first?.stringValue == "127.0.0.1:9102")
        #expect(upstream["circuit_breaker"]?["consecutive_failures"]?.int64Value == 5)
        #expect(upstream["circuit_breaker"]?["open_ms"]?.int64Value == 30000)
    }
}
