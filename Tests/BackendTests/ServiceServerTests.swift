import Foundation
import Glibc
import MeshTestSupport
import Testing

/// ServiceKit's HTTP server behaviour, observed on a real backend process (profile-service is the smallest).
@Suite struct ServiceServerTests {
    @Test func keepAliveAndPipelinedRequestsAreAnsweredInOrder() throws {
        let service = try ServiceProcess("profile-service")
        let request = "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n"
        let missing = "GET /profiles/nobody HTTP/1.1\r\nhost: x\r\n\r\n"
        let last = "GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
        let replies = try HTTPClient.raw(port: service.port, Array((request + missing + last).utf8), expect: 3)
        #expect(replies.map(\.status) == [200, 404, 200])
        #expect(replies[0].header("connection") == nil)
        #expect(replies[2].header("connection") == "close")
    }

    /// Thousands of pipelined requests: several reads on the server, partial writes waiting for EPOLLOUT.
    @Test func manyPipelinedRequestsAllGetAnswers() throws {
        let service = try ServiceProcess("profile-service")
        let count = 3000
        var text = String(repeating: "GET /profiles/nobody HTTP/1.1\r\nhost: x\r\n\r\n", count: count - 1)
        text += "GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
        let replies = try HTTPClient.raw(port: service.port, Array(text.utf8), expect: count)
        #expect(replies.count == count)
        #expect(replies.dropLast().allSatisfy { $0.status == 404 })
        #expect(replies.last?.status == 200)
    }

    /// RFC 9110 §10.1.1: with `Expect: 100-continue` the interim 100 comes before the client sends the body.
    @Test func expectContinueIsAnsweredBeforeTheBody() throws {
        let service = try ServiceProcess("profile-service")
        let client = try RawClient(port: service.port, timeoutMs: HTTPClient.timeoutMs)
        let head =
            "PUT /profiles/zed HTTP/1.1\r\nhost: x\r\nx-user-id: zed\r\nexpect: 100-continue\r\n"
            + "content-length: 16\r\nconnection: close\r\n\r\n"
        try client.send(head)
        // The interim answer alone, before any body byte was sent (the reader would skip it).
        var interim = [UInt8](repeating: 0, count: 25)
        #expect(recv(client.fd, &interim, interim.count, Int32(MSG_WAITALL)) == 25)
        #expect(String(decoding: interim, as: UTF8.self) == "HTTP/1.1 100 Continue\r\n\r\n")
        try client.send(#"{"nickname":"z"}"#)
        let parsed = HTTPReply(try client.readResponse(method: "PUT"))
        #expect(parsed.status == 200)
        #expect(parsed.json?["nickname"]?.stringValue == "z")
    }

    @Test func chunkedBodiesAreDecoded() throws {
        let service = try ServiceProcess("profile-service")
        let json = #"{"nickname":"chunked"}"#
        let chunks = json.utf8.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        var body = ""
        for (i, chunk) in chunks.enumerated() {
            let text = String(decoding: chunk, as: UTF8.self) + (i < chunks.count - 1 ? ":" : "")
            body += String(text.utf8.count, radix: 16) + "\r\n" + text + "\r\n"
        }
        body += "0\r\n\r\n"
        let head =
            "PUT /profiles/ivan HTTP/1.1\r\nhost: x\r\nx-user-id: ivan\r\ntransfer-encoding: chunked\r\n"
            + "connection: close\r\n\r\n"
        let reply = try HTTPClient.raw(port: service.port, Array((head + body).utf8), expect: 1)[0]
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.json?["nickname"]?.stringValue == "chunked")
    }

    @Test(arguments: [
        "GET /healthz HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n",
        "GET /healthz HTTP/1.1\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nhost : x\r\n\r\n",
        "PUT /profiles/ivan HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
        "\u{16}\u{03}\u{01}\u{02}\u{00}\u{01}",
    ])
    func malformedRequestsGet400JSONAndTheServerLives(_ text: String) throws {
        let service = try ServiceProcess("profile-service")
        let reply = try HTTPClient.raw(port: service.port, Array(text.utf8), expect: 1)[0]
        #expect(reply.status == 400)
        #expect(reply.errorCode == "bad_request")
        #expect(reply.header("connection") == "close")
        #expect(try HTTPClient.request(port: service.port, "GET", "/healthz").status == 200)
    }

    /// Deterministic garbage (a fixed-seed generator, so a failure replays): every connection ends with a 4xx
    /// or a close, and the process keeps serving.
    @Test func garbageNeverCrashesTheServer() throws {
        let service = try ServiceProcess("relationship-service")
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        let prefixes = [
            "", "GET / HTTP/1.1\r\n", "PUT /follows/abc HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n",
        ]
        for round in 0..<60 {
            let length = Int(next() % 300)
            let noise = (0..<length).map { _ in UInt8(truncatingIfNeeded: next()) }
            let bytes = Array(prefixes[round % prefixes.count].utf8) + noise + Array("\r\n\r\n".utf8)
            let client = try RawClient(port: service.port, timeoutMs: HTTPClient.timeoutMs)
            try? client.send(bytes)
            client.shutdownWrite()
            let reply = (try? client.readAvailable()) ?? []
            if reply.count > 12 {
                let status = Int(String(decoding: reply[9..<12], as: UTF8.self)) ?? 0
                #expect((400..<500).contains(status), "round \(round): \(status)")
            }
        }
        #expect(service.isRunning)
        #expect(try HTTPClient.request(port: service.port, "GET", "/healthz").status == 200)
    }

    @Test func contentLengthOverTheLimitIs413BeforeTheBodyArrives() throws {
        let service = try ServiceProcess("profile-service")
        let head = "PUT /profiles/ivan HTTP/1.1\r\nhost: x\r\nx-user-id: ivan\r\ncontent-length: 99999999\r\n\r\n"
        let reply = try HTTPClient.raw(port: service.port, Array(head.utf8), expect: 1)[0]
        #expect(reply.status == 413)
        #expect(reply.errorCode == "payload_too_large")
    }

    @Test func expiredDeadlineIs504WithoutDoingTheWork() throws {
        let service = try ServiceProcess("profile-service")
        for deadline in ["0", "-5"] {
            let reply = try HTTPClient.json(
                port: service.port,
                "PUT",
                "/profiles/judy",
                #"{"nickname":"late"}"#,
                headers: [("x-user-id", "judy"), ("x-meshgate-deadline-ms", deadline)]
            )
            #expect(reply.status == 504)
            #expect(reply.errorCode == "deadline_exceeded")
        }
        #expect(try HTTPClient.request(port: service.port, "GET", "/profiles/judy").status == 404)
        let inTime = try HTTPClient.json(
            port: service.port,
            "PUT",
            "/profiles/judy",
            #"{"nickname":"ok"}"#,
            headers: [("x-user-id", "judy"), ("x-meshgate-deadline-ms", "5000")]
        )
        #expect(inTime.status == 200)
    }

    @Test func metricsCountRequestsByRouteAndCode() throws {
        let service = try ServiceProcess("profile-service")
        _ = try HTTPClient.request(port: service.port, "GET", "/profiles/nobody")
        _ = try HTTPClient.request(port: service.port, "GET", "/profiles/nobody")
        _ = try HTTPClient.request(port: service.port, "GET", "/no/such/route")
        let metrics = try HTTPClient.request(port: service.port, "GET", "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.header("content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
        #expect(metrics.text.contains(#"http_requests_total{route="profile-read",code="404"} 2"#))
        #expect(metrics.text.contains(#"http_requests_total{route="unmatched",code="404"} 1"#))
        #expect(metrics.text.contains(#"http_request_duration_seconds_count{route="profile-read"} 2"#))
        let openFDs = metrics.text.split(separator: "\n").first { $0.hasPrefix("process_open_fds ") }
        #expect((openFDs?.split(separator: " ").last).flatMap { Double($0) }.map { $0 > 3 } == true)
    }

    @Test func logLinesCarryTheIncomingTraceID() throws {
        let service = try ServiceProcess("profile-service")
        let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        let parent = "00f067aa0ba902b7"
        _ = try HTTPClient.request(
            port: service.port,
            "GET",
            "/profiles/kim?secret=1",
            headers: [("traceparent", "00-\(traceID)-\(parent)-01"), ("x-request-id", "req-42")]
        )
        #expect(service.stop() == 0)
        let lines = service.log().split(separator: "\n").compactMap { line in
            try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        }
        let line = try #require(lines.first { $0["path"] as? String == "/profiles/kim" })
        #expect(line["trace_id"] as? String == traceID)
        #expect(line["parent_span_id"] as? String == parent)
        #expect((line["span_id"] as? String)?.count == 16)
        #expect(line["span_id"] as? String != parent)
        #expect(line["request_id"] as? String == "req-42")
        #expect(line["status"] as? Int == 404)
        #expect(line["method"] as? String == "GET")
        #expect(line["service"] as? String == "profile-service")
        #expect(line["level"] as? String == "info")
        #expect(line["duration_ms"] is Double || line["duration_ms"] is Int)
        #expect((line["ts"] as? String)?.hasSuffix("Z") == true)
        #expect(!service.log().contains("secret=1"))
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func terminationSignalsExitZero(_ signal: Int32) throws {
        let service = try ServiceProcess("relationship-service")
        #expect(service.stop(signal) == 0)
    }

    @Test func usageErrorsExitTwoAndBindFailuresExitThree() throws {
        func run(_ arguments: [String]) throws -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ServiceProcess.binaryDirectory + "/profile-service")
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
        let directory = try ServiceProcess.temporaryDirectory("usage")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try run(["--nope", "1"]) == 2)
        #expect(try run(["--listen", "not-an-address", "--data-dir", directory]) == 2)
        let busy = try ServiceProcess("profile-service")
        #expect(try run(["--listen", "127.0.0.1:\(busy.port)", "--data-dir", directory]) == 3)
    }
}
