import MeshGateway
import MeshJSON
import MeshPosix
import Synchronization
import Testing

/// State the hooks read and write, shared with the admin thread.
final class HookState: Sendable {
    let ready = Atomic<Bool>(true)
    let reloads = Atomic<Int>(0)
    let reloadFails = Atomic<Bool>(false)

    var hooks: AdminHooks {
        AdminHooks(
            metrics: { "# HELP up Up.\n# TYPE up gauge\nup 1\n" },
            config: { #"{"version":1,"listeners":[]}"# },
            upstreams: { #"{"upstreams":[]}"# },
            ready: { self.ready.load(ordering: .relaxed) },
            reload: {
                self.reloads.add(1, ordering: .relaxed)
                return self.reloadFails.load(ordering: .relaxed)
                    ? (false, ["routes[0].upstream: unknown upstream \"nope\"", "second \"error\""]) : (true, [])
            })
    }
}

@Suite(.serialized) struct AdminServerTests {
    func withServer(_ body: (AdminServer, HookState) throws -> Void) throws {
        let state = HookState()
        let server = try AdminServer(address: SocketAddress(numericHost: "127.0.0.1", port: 0)!, hooks: state.hooks)
        server.start()
        defer { server.stop() }
        #expect(server.address.port != 0)
        try body(server, state)
    }

    @Test func everyPathAnswers() throws {
        try withServer { server, _ in
            let client = try #require(HTTPClient(server.address))
            let metrics = try #require(client.request("GET", "/metrics"))
            #expect(metrics.status == 200)
            #expect(metrics.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
            #expect(metrics.body == "# HELP up Up.\n# TYPE up gauge\nup 1\n")

            let health = try #require(client.request("GET", "/healthz"))
            #expect(health.status == 200)
            #expect(try JSONReader.parse(health.body)["status"]?.stringValue == "ok")

            let config = try #require(client.request("GET", "/config"))
            #expect(config.status == 200 && config.headers["content-type"] == "application/json")
            #expect(try JSONReader.parse(config.body)["version"]?.int64Value == 1)

            let upstreams = try #require(client.request("GET", "/upstreams?verbose=1"))
            #expect(upstreams.status == 200)
            #expect(try JSONReader.parse(upstreams.body)["upstreams"]?.arrayValue?.isEmpty == true)

            let page = try #require(client.request("GET", "/"))
            #expect(page.status == 200)
            #expect(page.headers["content-type"] == "text/html; charset=utf-8")
            #expect(page.body.contains("<html") && page.body.contains("/upstreams") && page.body.contains("/metrics"))
            // Self-contained: no external scripts, styles or images.
            #expect(!page.body.contains("http://") && !page.body.contains("https://") && !page.body.contains("src="))
        }
    }

    @Test func readinessFollowsTheHook() throws {
        try withServer { server, state in
            let client = try #require(HTTPClient(server.address))
            let ready = try #require(client.request("GET", "/readyz"))
            #expect(ready.status == 200)
            #expect(try JSONReader.parse(ready.body)["ready"]?.boolValue == true)
            state.ready.store(false, ordering: .relaxed)
            let draining = try #require(client.request("GET", "/readyz"))
            #expect(draining.status == 503)
            #expect(try JSONReader.parse(draining.body)["ready"]?.boolValue == false)
        }
    }

    @Test func reloadReportsErrors() throws {
        try withServer { server, state in
            let client = try #require(HTTPClient(server.address))
            let ok = try #require(client.request("POST", "/reload", extra: "Content-Length: 0\r\n"))
            #expect(ok.status == 200)
            #expect(try JSONReader.parse(ok.body)["ok"]?.boolValue == true)
            state.reloadFails.store(true, ordering: .relaxed)
            // A body is accepted and ignored.
            client.send("POST /reload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello")
            let failed = try #require(client.response())
            #expect(failed.status == 400)
            let node = try JSONReader.parse(failed.body)
            #expect(node["ok"]?.boolValue == false)
            #expect(
                node["errors"]?.arrayValue?.map { $0.stringValue } == [
                    "routes[0].upstream: unknown upstream \"nope\"", "second \"error\"",
                ])
            #expect(state.reloads.load(ordering: .relaxed) == 2)
        }
    }

    @Test func unknownPathsAndMethods() throws {
        try withServer { server, state in
            let client = try #require(HTTPClient(server.address))
            let missing = try #require(client.request("GET", "/nope"))
            #expect(missing.status == 404)
            #expect(try JSONReader.parse(missing.body)["error"]?.stringValue == "not_found")
            let wrong = try #require(client.request("DELETE", "/metrics"))
            #expect(wrong.status == 405)
            #expect(wrong.headers["allow"] == "GET, HEAD")
            #expect(try JSONReader.parse(wrong.body)["error"]?.stringValue == "method_not_allowed")
            let getReload = try #require(client.request("GET", "/reload"))
            #expect(getReload.status == 405 && getReload.headers["allow"] == "POST")
            #expect(state.reloads.load(ordering: .relaxed) == 0)
        }
    }

    @Test func keepAliveHeadAndPipelining() throws {
        try withServer { server, _ in
            let client = try #require(HTTPClient(server.address))
            let head = try #require(client.request("HEAD", "/healthz"))
            #expect(head.status == 200 && head.body.isEmpty && head.headers["content-length"] == "15")
            // Two pipelined requests on the same connection, answered in order.
            client.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\nGET /nope HTTP/1.1\r\nHost: localhost\r\n\r\n")
            #expect(client.response()?.status == 200)
            #expect(client.response()?.status == 404)
            let last = try #require(client.request("GET", "/healthz", extra: "Connection: close\r\n"))
            #expect(last.status == 200 && last.headers["connection"] == "close")
            #expect(client.isClosedByServer())
        }
    }

    @Test func malformedRequestsGet400AndClose() throws {
        try withServer { server, _ in
            let client = try #require(HTTPClient(server.address))
            client.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
            let response = try #require(client.response())
            #expect(response.status == 400)
            #expect(client.isClosedByServer())
            let chunked = try #require(HTTPClient(server.address))
            chunked.send("POST /reload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            #expect(chunked.response()?.status == 400)
        }
    }
}
