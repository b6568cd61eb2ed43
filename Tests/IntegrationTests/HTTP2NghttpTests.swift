import Foundation
import Glibc
import MeshTestSupport
import Testing

/// `nghttp` (nghttp2's client, Debian `nghttp2-client`) through the gateway with h2c prior knowledge: an independent
/// HTTP/2 implementation — its own HPACK encoder, PRIORITY frames on idle streams before its first HEADERS,
/// several streams multiplexed on one connection — gets the upstream's answers, and the HTTP/1 upstream sees
/// ordinary HTTP/1.1 requests (SPEC §10).
@Suite struct HTTP2NghttpTests {
    /// Runs `nghttp arguments…`; nil when nghttp is not installed (CI installs it, `.ci/run`).
    static func nghttp(_ arguments: [String]) throws -> Tool.Result? {
        guard access("/usr/bin/nghttp", X_OK) == 0 else { return nil }
        return try Tool.run("/usr/bin/nghttp", ["--timeout=10"] + arguments, timeoutMs: 20_000)
    }

    /// The `(stream id, status)` of every response in nghttp's `-v` output (`recv (stream_id=N) :status: S`).
    static func statuses(_ output: String) -> [(UInt32, Int)] {
        output.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: "recv (stream_id="), line.contains(") :status: ") else { return nil }
            let rest = line[range.upperBound...]
            let id = rest.prefix { $0.isNumber }
            let status = rest.split(separator: " ").last.flatMap { Int($0) }
            guard let stream = UInt32(id), let status else { return nil }
            return (stream, status)
        }
    }

    @Test func oneRequestWithPriorKnowledgeReachesTheUpstreamAsHTTP11() throws {
        let bed = try HTTP2GatewayTests.bed()
        defer { bed.stop() }
        let url = "http://127.0.0.1:\(bed.ports.listener)"
        guard let result = try Self.nghttp(["-nv", "-H", "x-client: nghttp", "\(url)/one?x=1"]) else {
            Issue.record("nghttp is not installed (Debian nghttp2-client)")
            return
        }
        #expect(result.exitCode == 0, "\(result.stdout.suffix(3000)) \(result.stderr)")
        let statuses = Self.statuses(result.stdout)
        #expect(statuses.count == 1 && statuses.first?.1 == 200, "\(result.stdout.suffix(3000))")
        // nghttp opened its stream after PRIORITY frames on idle streams; the gateway took them in its stride.
        #expect(result.stdout.contains("send PRIORITY frame"), "\(result.stdout.prefix(2000))")
        #expect(!result.stdout.contains("recv GOAWAY") && !result.stdout.contains("recv RST_STREAM"),
                "\(result.stdout.suffix(2000))")
        let received = try #require(bed["app"].requests.first)
        #expect(received.head.startLine == ["GET", "/one?x=1", "HTTP/1.1"], "\(received.head.text)")
        #expect(received.head.headers("host") == ["127.0.0.1:\(bed.ports.listener)"], "\(received.head.text)")
        #expect(received.head.header("x-client") == "nghttp", "\(received.head.text)")
        #expect(received.head.header("user-agent")?.hasPrefix("nghttp2/") == true, "\(received.head.text)")
        #expect(received.head.header("x-forwarded-for") == "127.0.0.1", "\(received.head.text)")
        #expect(!received.head.has("te") && !received.head.has("transfer-encoding"), "\(received.head.text)")
        #expect(bed["app"].requests.count == 1)
    }

    @Test func severalURLsAreMultiplexedOnOneConnection() throws {
        let bed = try HTTP2GatewayTests.bed()
        defer { bed.stop() }
        let url = "http://127.0.0.1:\(bed.ports.listener)"
        let paths = ["/m/a", "/m/b", "/m/c", "/m/d", "/m/e"]
        guard let result = try Self.nghttp(["-nv"] + paths.map { url + $0 }) else {
            Issue.record("nghttp is not installed (Debian nghttp2-client)")
            return
        }
        #expect(result.exitCode == 0, "\(result.stdout.suffix(3000)) \(result.stderr)")
        let statuses = Self.statuses(result.stdout)
        #expect(statuses.count == paths.count && statuses.allSatisfy { $0.1 == 200 }, "\(result.stdout.suffix(4000))")
        #expect(Set(statuses.map(\.0)).count == paths.count, "one stream each: \(statuses)")
        // One connection: nghttp connects once and every request is a stream on it.
        #expect(result.stdout.components(separatedBy: "] Connected").count - 1 == 1, "\(result.stdout.prefix(1000))")
        let received = bed["app"].waitForRequests(paths.count)
        #expect(received.count == paths.count)
        #expect(Set(received.map(\.target)) == Set(paths), "\(received)")
        #expect(received.allSatisfy { $0.version == "HTTP/1.1" && $0.method == "GET" }, "\(received)")
        #expect(received.allSatisfy { $0.head.headers("host") == ["127.0.0.1:\(bed.ports.listener)"] })
        // Each stream was its own exchange: its own request id.
        #expect(Set(received.compactMap { $0.head.header("x-request-id") }).count == paths.count)
    }

    @Test func anUploadArrivesAsAnHTTP11BodyAndErrorsArePerStream() throws {
        let bed = try HTTP2GatewayTests.bed(routes: [TestConfig.route("/up", to: "app")])
        defer { bed.stop() }
        let directory = try GatewayProcess.makeTempDirectory()
        defer { GatewayProcess.removeDirectory(directory) }
        let payload = String((0..<40_000).map { i in Character(UnicodeScalar(UInt8(0x61 + i % 26))) })
        try ChildProcess.writeFile(directory + "/body", payload)
        let url = "http://127.0.0.1:\(bed.ports.listener)"
        guard let result = try Self.nghttp(["-nv", "-d", directory + "/body", "\(url)/up/load", "\(url)/nowhere"]) else {
            Issue.record("nghttp is not installed (Debian nghttp2-client)")
            return
        }
        #expect(result.exitCode == 0, "\(result.stdout.suffix(3000)) \(result.stderr)")
        let statuses = Self.statuses(result.stdout).map(\.1).sorted()
        // nghttp posts the file to every URL: the routed one is answered by the upstream, the other gets 404.
        #expect(statuses == [200, 404], "\(result.stdout.suffix(4000))")
        let received = bed["app"].waitForRequests(1)
        #expect(received.count == 1)
        let upload = try #require(received.first)
        #expect(upload.head.startLine == ["POST", "/up/load", "HTTP/1.1"], "\(upload.head.text)")
        #expect(upload.bodyText == payload, "body of \(upload.bodyCount) bytes")
        // nghttp states content-length, so the gateway frames the HTTP/1 body with it (SPEC §10), never chunked.
        #expect(upload.head.headers("content-length") == ["\(payload.utf8.count)"], "\(upload.head.text)")
        #expect(!upload.head.has("transfer-encoding"), "\(upload.head.text)")
    }
}
