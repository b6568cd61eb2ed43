import MeshTestSupport
import Testing

/// Many clients at once, requests fed one byte at a time, and pipelines that mix good and bad requests.
@Suite struct ConcurrencyTests {
    @Test func hundredConcurrentClientsEachGetTheirOwnAnswer() throws {
        let rig = try Rig(.echo)
        var clients: [RawClient] = []
        for index in 0..<100 {
            let client = try rig.client()
            try client.send("GET /c/\(index) HTTP/1.1\r\nHost: test.local\r\n\r\n")
            clients.append(client)
        }
        for (index, client) in clients.enumerated() {
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.bodyText.hasPrefix("GET /c/\(index) HTTP/1.1\r\n"), "client \(index) got another's answer")
        }
        #expect(rig.upstream.requests.count == 100)
        rig.expectCleanStop()
    }

    @Test func requestFedOneByteAtATimeIsAssembled() throws {
        let rig = try Rig(.echo)
        let client = try rig.client()
        let request = "POST /bytes HTTP/1.1\r\nHost: test.local\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
        for byte in request.utf8 { try client.send([byte]) }
        let response = try client.readResponse(method: "POST")
        #expect(response.status == 200)
        let received = try #require(rig.upstream.requests.first)
        #expect(received.bodyText == "hello world")
        #expect(received.target == "/bytes")
        rig.expectCleanStop()
    }

    @Test func errorInAPipelineAnswersEarlierRequestsAndForwardsNothingAfter() throws {
        let rig = try Rig(upstreams: ["app": .echo], routes: [TestConfig.route("/api", to: "app")])
        let client = try rig.client()
        try client.send(
            "GET /api/1 HTTP/1.1\r\nHost: h\r\n\r\n"
                + "GET /nowhere HTTP/1.1\r\nHost: h\r\n\r\n"
                + "GET /api/2 HTTP/1.1\r\nHost: h\r\n\r\n"
                + "POST /api/3 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                + "GET /api/4 HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(try client.readResponse().status == 200)
        expectGatewayError(try client.readResponse(), 404, "no_route")
        #expect(try client.readResponse().status == 200)
        expectGatewayError(try client.readResponse(method: "POST"), 400, "bad_request")
        #expect(client.serverClosed(), "connection kept after a smuggling attempt in a pipeline")
        #expect(rig.upstream.requests.map(\.target) == ["/api/1", "/api/2"])
        rig.expectCleanStop()
    }
}
