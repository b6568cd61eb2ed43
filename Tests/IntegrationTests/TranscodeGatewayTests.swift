import Foundation
import Glibc
import MeshTestSupport
import Testing

/// REST → gRPC through the gateway (`grpc_transcode`, issue 16): curl-style HTTP/1.1 and HTTP/2 requests in,
/// a Python `grpcio` server built from the same descriptor set behind an `h2c` upstream. Checked on both sides:
/// what the server decoded from the gateway's protobuf, and what the client got back as JSON.
@Suite struct TranscodeGatewayTests {
    /// `/v1/items/flaky1` retries UNAVAILABLE; `/echo/{id}` names its method and binding in the route; every
    /// other path is transcoded by the descriptor set's own `google.api.http` rules (gRPC calls pass through).
    static func bed(_ server: ItemsServer) throws -> Testbed {
        let set = server.descriptorSet
        return try Testbed(upstreams: [:]) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin,
                routes: [
                    #"""
                    { "match": { "path": "/v1/items/flaky1" }, "upstream": "items",
                      "grpc_transcode": { "descriptor_set": "\#(set)" },
                      "retry": { "retries": 2, "on": ["grpc-unavailable"], "backoff_base_ms": 1, "backoff_max_ms": 5 } }
                    """#,
                    #"""
                    { "match": { "path_template": "/echo/{id}", "methods": ["POST"] }, "upstream": "items",
                      "grpc_transcode": { "descriptor_set": "\#(set)", "method": "shop.v1.Items/Echo", "body": "*" },
                      "response_headers": { "set": { "x-transcoded": "yes" } } }
                    """#,
                    #"""
                    { "match": { "path_prefix": "/" }, "upstream": "items",
                      "grpc_transcode": { "descriptor_set": "\#(set)" }, "retry": { "retries": 0 } }
                    """#,
                ],
                upstreams: ["items": TestConfig.upstream([server.port], #""protocol": "h2c""#)])
        }
    }

    static func json(_ response: HTTPResponse) throws -> JSONMeaning { try JSONMeaning(response.body) }

    /// A top-level member of a JSON object body (nil when the body is not one).
    static func member(_ response: HTTPResponse, _ key: String) -> Any? {
        (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?[key]
    }

    @Test func restRequestsBecomeCallsAndRepliesBecomeJSON() throws {
        let server = try ItemsServer()
        let bed = try Self.bed(server)
        defer { bed.stop() }
        let trace = "4bf92f3577b34da6a3ce929d0e0e4736"
        let got = try bed.request("GET", "/v1/items/42?verbose=true", headers: "traceparent: 00-\(trace)-00f067aa0ba902b7-01\r\n")
        #expect(got.status == 200 && got.header("content-type") == "application/json", "\(got)")
        #expect(
            try Self.json(got)
                == JSONMeaning(#"{"id":"42","name":"item 42 verbose","priceCents":"1234567890123","tags":["a","b"]}"#),
            "\(got.bodyText)")
        let created = try bed.request(
            "POST", "/v1/shelves/s1/items", body: #"{"name":"lamp","priceCents":"5","tags":["x"]}"#)
        #expect(created.status == 200, "\(created)")
        #expect(try Self.json(created) == JSONMeaning(#"{"id":"s1/lamp","name":"lamp","priceCents":"5","tags":["x"]}"#))
        let listed = try bed.request("GET", "/v1/shelves/s2/items?count=3")
        #expect(try Self.json(listed) == JSONMeaning(#"[{"id":"s2-0"},{"id":"s2-1"},{"id":"s2-2"}]"#), "\(listed.bodyText)")
        let none = try bed.request("GET", "/v1/shelves/s2/items")
        #expect(none.status == 200 && none.bodyText == "[]", "\(none)")
        // The route's own binding: the path variable wins over the body's field of the same name.
        let echoed = try bed.request("POST", "/echo/abc", body: #"{"id":"ignored","name":"n"}"#)
        #expect(echoed.status == 200 && echoed.header("x-transcoded") == "yes", "\(echoed)")
        #expect(try Self.json(echoed) == JSONMeaning(#"{"id":"abc","name":"n"}"#), "\(echoed.bodyText)")

        let calls = server.calls
        #expect(calls.map { $0["method"] as? String } == ["GetItem", "CreateItem", "ListItems", "ListItems", "Echo"])
        #expect(calls.first?["request"] as? NSDictionary == ["id": "42", "verbose": true] as NSDictionary, "\(calls)")
        #expect(
            calls[1]["request"] as? NSDictionary
                == ["shelf": "s1", "item": ["name": "lamp", "priceCents": "5", "tags": ["x"]]] as NSDictionary,
            "\(calls[1])")
        // W3C trace context goes on to the call: same trace, the gateway's span.
        let sent = calls.first?["traceparent"] as? String ?? ""
        #expect(sent.hasPrefix("00-\(trace)-") && !sent.contains("00f067aa0ba902b7"), "\(sent)")
    }

    @Test func failuresAreHTTPStatusesWithJSONBodiesAndBadRequestsNeverReachTheServer() throws {
        let server = try ItemsServer()
        let bed = try Self.bed(server)
        defer { bed.stop() }
        let missing = try bed.request("GET", "/v1/items/missing")
        #expect(missing.status == 404, "\(missing)")
        #expect(try Self.json(missing) == JSONMeaning(#"{"code":5,"message":"no item 'missing' here","error":"not_found"}"#))
        let down = try bed.request("GET", "/v1/items/unavailable")
        #expect(down.status == 503 && Self.member(down, "code") as? Int == 14, "\(down)")
        #expect(server.calls.count == 2)

        let malformed = try bed.request("POST", "/v1/shelves/s/items", body: #"{"name": "#)
        #expect(malformed.status == 400, "\(malformed)")
        #expect(Self.member(malformed, "error") as? String == "invalid_argument", "\(malformed.bodyText)")
        let wrongType = try bed.request("POST", "/v1/shelves/s/items", body: #"{"priceCents": "many"}"#)
        #expect(wrongType.status == 400 && wrongType.bodyText.contains("priceCents"), "\(wrongType)")
        let unknownParameter = try bed.request("GET", "/v1/items/1?colour=red")
        #expect(unknownParameter.status == 400 && unknownParameter.bodyText.contains("colour"), "\(unknownParameter)")
        let unbound = try bed.request("GET", "/v1/nothing/here")
        #expect(unbound.status == 404 && Self.member(unbound, "error") as? String == "no_route", "\(unbound)")
        // Each answer kept the connection usable: the requests were read whole, nothing was forwarded.
        let client = try bed.client()
        let first = try client.request("GET /v1/items/1?colour=red HTTP/1.1\r\nHost: t\r\n\r\n")
        let second = try client.request("GET /v1/items/7 HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(first.status == 400 && second.status == 200, "\(first)\n\(second)")
        #expect(server.calls.count == 3, "\(server.calls)")
        // The calls' gRPC statuses in the gateway's metrics and log lines (the catch-all route is test#2).
        let metrics = try bed.admin("/metrics").bodyText
        for status in ["0", "5", "14"] {
            #expect(metrics.contains(#"meshgate_grpc_requests_total{listener="test",route="test#2",grpc_status="\#(status)"} 1"#), "\(metrics)")
        }
        Poll.until(timeoutMs: 5000) { !GRPCGatewayTests.logged(bed, path: "/v1/items/missing").isEmpty }
        let logged = GRPCGatewayTests.logged(bed, path: "/v1/items/missing")
        #expect(logged.first?["status"] as? Int == 404 && logged.first?["grpc_status"] as? Int == 5, "\(logged)")
    }

    @Test func unavailableIsRetriedAndGRPCCallsPassThroughTheRoute() throws {
        let server = try ItemsServer()
        let bed = try Self.bed(server)
        defer { bed.stop() }
        let flaky = try bed.request("GET", "/v1/items/flaky1")
        #expect(flaky.status == 200 && Self.member(flaky, "id") as? String == "flaky1", "\(flaky)")
        #expect(server.calls.count == 2, "one UNAVAILABLE, then the retry: \(server.calls)")
        // A gRPC client on the same listener: its call goes through untouched (an empty Item echoes as one).
        let call = try GRPCCall(port: bed.ports.listener, .unary, "/shop.v1.Items/Echo", [""])
        #expect(call.code == "OK" && call.responses == [""], "\(call)")
        #expect(server.calls.last?["method"] as? String == "Echo")
    }

    @Test func lateBodiesPipelinedRequestsAndHTTP2ClientsAreTranscoded() throws {
        let server = try ItemsServer()
        let bed = try Self.bed(server)
        defer { bed.stop() }
        // The body follows the 100 Continue the gateway sends while it waits for it.
        let body = #"{"name":"late"}"#
        let client = try bed.client()
        try client.send(
            "POST /echo/e1 HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: \(body.utf8.count)\r\n\r\n")
        let interim = String(decoding: try client.readAvailable(), as: UTF8.self)
        #expect(interim == "HTTP/1.1 100 Continue\r\n\r\n", "\(interim)")
        try client.send(body)
        let late = try client.readResponse()
        #expect(late.status == 200, "\(late)")
        #expect(try Self.json(late) == JSONMeaning(#"{"id":"e1","name":"late"}"#), "\(late)")
        // A chunked body cut inside a chunk: the gateway waits for the rest, then de-chunks it.
        try client.send("POST /echo/e3 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"nam")
        usleep(200_000)
        let chunked = try client.request("\r\n8\r\ne\":\"ch\"}\r\n0\r\n\r\n", method: "POST")
        #expect(try Self.json(chunked) == JSONMeaning(#"{"id":"e3","name":"ch"}"#), "\(chunked)")
        // Two requests in one write: the first is rewritten in place without losing the second.
        try client.send("GET /v1/items/p1 HTTP/1.1\r\nHost: t\r\n\r\nGET /v1/items/p2 HTTP/1.1\r\nHost: t\r\n\r\n")
        let p1 = try client.readResponse(), p2 = try client.readResponse()
        #expect(Self.member(p1, "id") as? String == "p1" && Self.member(p2, "id") as? String == "p2", "\(p1)\n\(p2)")
        // HTTP/2 with prior knowledge, body and all.
        let h2 = try Tool.curl([
            "--http2-prior-knowledge", "-s", "-X", "POST", "-d", #"{"name":"h2"}"#,
            "http://127.0.0.1:\(bed.ports.listener)/echo/e2",
        ])
        #expect(try JSONMeaning(h2.stdout) == JSONMeaning(#"{"id":"e2","name":"h2"}"#), "\(h2)")
    }

    @Test func meshgateCheckNamesADescriptorSetThatDoesNotLoad() throws {
        let directory = try GatewayProcess.makeTempDirectory()
        defer { GatewayProcess.removeDirectory(directory) }
        try ChildProcess.writeFile(directory + "/broken.pb", "not a descriptor set")
        func check(_ transcode: String, protocol proto: String = "h2c") throws -> GatewayProcess.CommandResult {
            let config = TestConfig.document(
                port: 1, routes: [#"{ "match": { "path_prefix": "/" }, "upstream": "u", "grpc_transcode": \#(transcode) }"#],
                upstreams: ["u": TestConfig.upstream([2], #""protocol": "\#(proto)""#)])
            try ChildProcess.writeFile(directory + "/routes.json", config)
            return try GatewayProcess.command(["check", directory + "/routes.json"])
        }
        let broken = try check(#"{ "descriptor_set": "\#(directory)/broken.pb" }"#)
        #expect(broken.termination != .exited(0), "\(broken)")
        #expect(broken.stderr.contains("grpc_transcode.descriptor_set") && broken.stderr.contains("broken.pb\" is not a descriptor set"), "\(broken.stderr)")
        let absent = try check(#"{ "descriptor_set": "\#(directory)/absent.pb" }"#)
        #expect(absent.stderr.contains("absent.pb\": cannot read the file"), "\(absent.stderr)")
        let server = try ItemsServer()
        let unknown = try check(#"{ "descriptor_set": "\#(server.descriptorSet)", "method": "shop.v1.Items/GetItems" }"#)
        #expect(unknown.stderr.contains(#"has no method "shop.v1.Items/GetItems" (did you mean "/shop.v1.Items/GetItem"?)"#), "\(unknown.stderr)")
        let http1 = try check(#"{ "descriptor_set": "\#(server.descriptorSet)" }"#, protocol: "http1")
        #expect(http1.stderr.contains("needs HTTP/2"), "\(http1.stderr)")
        let fine = try check(#"{ "descriptor_set": "\#(server.descriptorSet)" }"#)
        #expect(fine.termination == .exited(0), "\(fine)")
    }
}
