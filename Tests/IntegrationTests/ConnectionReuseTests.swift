import MeshTestSupport
import Testing

/// SPEC §4 keep-alive and pipelining; SPEC §3 upstream connection pools.
@Suite struct ConnectionReuseTests {
    @Test func fiftySequentialRequestsShareOneUpstreamConnection() throws {
        let rig = try Rig(.echo)
        let client = try rig.client()
        for index in 0..<50 {
            let response = try client.request("GET /seq/\(index) HTTP/1.1\r\nHost: test.local\r\n\r\n")
            #expect(response.status == 200)
            #expect(response.bodyText.hasPrefix("GET /seq/\(index) HTTP/1.1\r\n"), "response \(index) out of order")
        }
        let requests = rig.upstream.requests
        #expect(requests.count == 50)
        #expect(Set(requests.map(\.connection)).count == 1, "connections used: \(Set(requests.map(\.connection)))")
        #expect(rig.upstream.connectionCount == 1)
        rig.expectCleanStop()
    }

    @Test func clientConnectionsInTurnReusePooledUpstreamConnections() throws {
        let rig = try Rig(.echo)
        for round in 0..<5 {
            let client = try rig.client()
            for index in 0..<3 {
                let response = try client.request("GET /round/\(round)/\(index) HTTP/1.1\r\nHost: test.local\r\n\r\n")
                #expect(response.status == 200)
            }
            client.close()
        }
        #expect(rig.upstream.requests.count == 15)
        // Sequential clients on one worker need one pooled connection; allow one spare for a racing close.
        #expect(rig.upstream.connectionCount <= 2, "upstream connections: \(rig.upstream.connectionCount)")
        rig.expectCleanStop()
    }

    @Test func idleClientConnectionIsClosedAfterIdleTimeout() throws {
        let rig = try Rig(.echo, limits: "{ \"idle_timeout_ms\": 300 }")
        let client = try rig.client()
        #expect(try client.request("GET /once HTTP/1.1\r\nHost: test.local\r\n\r\n").status == 200)
        // The read waits (bounded by the client's 5 s timeout) for the gateway to close the idle connection.
        #expect(client.serverClosed(), "idle keep-alive connection not closed after idle_timeout_ms")
        rig.expectCleanStop()
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let rig = try Rig(.echo)
        let client = try rig.client()
        try client.send(
            "GET /p/1 HTTP/1.1\r\nHost: test.local\r\n\r\n"
                + "POST /p/2 HTTP/1.1\r\nHost: test.local\r\nContent-Length: 5\r\n\r\nhello"
                + "GET /p/3 HTTP/1.1\r\nHost: test.local\r\n\r\n")
        for (index, method) in ["GET", "POST", "GET"].enumerated() {
            let response = try client.readResponse(method: method)
            #expect(response.status == 200)
            #expect(response.bodyText.hasPrefix("\(method) /p/\(index + 1) HTTP/1.1\r\n"), "got \(response.bodyText)")
        }
        #expect(rig.upstream.requests.map(\.target) == ["/p/1", "/p/2", "/p/3"])
        #expect(rig.upstream.requests[1].bodyText == "hello")
        rig.expectCleanStop()
    }
}

/// Pool hygiene: connections the upstream ended, or said it would end, are never used again.
@Suite struct PoolHygieneTests {
    @Test func upstreamConnectionCloseIsNotReused() throws {
        // The upstream says `Connection: close` but leaves the socket open: the gateway must close it itself
        // (RFC 9112 §9.6) and open a new one for the next request.
        let rig = try Rig(.fixed(UpstreamReply(headers: [("Connection", "close")], body: "once")))
        let client = try rig.client()
        for _ in 0..<3 {
            let response = try client.request("GET /c HTTP/1.1\r\nHost: test.local\r\n\r\n")
            #expect(response.status == 200)
            #expect(response.bodyText == "once")
        }
        let connections = rig.upstream.requests.map(\.connection)
        #expect(connections.count == 3)
        #expect(Set(connections).count == 3, "requests shared a connection the upstream closed: \(connections)")
        rig.expectCleanStop()
    }

    @Test func upstreamClosingAfterEachResponseNeverFailsARequest() throws {
        // A complete response, then FIN (as a server with a short idle timeout would): reusing that
        // connection must not cost the client an error; an idempotent request is sent again (SPEC §4).
        let rig = try Rig(.raw(Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8)))
        let client = try rig.client()
        for index in 0..<10 {
            let response = try client.request("GET /r/\(index) HTTP/1.1\r\nHost: test.local\r\n\r\n")
            #expect(response.status == 200, "request \(index): \(response)")
        }
        rig.expectCleanStop()
    }
}
