import MeshGateway
import MeshJSON
import MeshPosix
import MeshTestSupport
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
            let client = try RawClient(port: server.address.port)
            let metrics = try client.request("GET", "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.header("content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
            #expect(metrics.bodyText == "# HELP up Up.\n# TYPE up gauge\nup 1\n")

            let health = try client.request("GET", "/healthz")
            #expect(health.status == 200)
            #expect(try JSONReader.parse(health.body)["status"]?.stringValue == "ok")

            let config = try client.request("GET", "/config")
            #expect(config.status == 200 && config.header("content-type") == "application/json")
            #expect(try JSONReader.parse(config.body)["version"]?.int64Value == 1)

            let upstreams = try client.request("GET", "/upstreams?verbose=1")
            #expect(upstreams.status == 200)
            #expect(try JSONReader.parse(upstreams.body)["upstreams"]?.arrayValue?.isEmpty == true)

            let page = try client.request("GET", "/")
            #expect(page.status == 200)
            #expect(page.header("content-type") == "text/html; charset=utf-8")
            #expect(page.bodyText.contains("<html") && page.bodyText.contains("/upstreams") && page.bodyText.contains("/metrics"))
            // Self-contained: no external scripts, styles or images.
            #expect(!page.bodyText.contains("http://") && !page.bodyText.contains("https://") && !page.bodyText.contains("src="))
        }
    }

    @Test func readinessFollowsTheHook() throws {
        try withServer { server, state in
            let client = try RawClient(port: server.address.port)
            let ready = try client.request("GET", "/readyz")
            #expect(ready.status == 200)
            #expect(try JSONReader.parse(ready.body)["ready"]?.boolValue == true)
            state.ready.store(false, ordering: .relaxed)
            let draining = try client.request("GET", "/readyz")
            #expect(draining.status == 503)
            #expect(try JSONReader.parse(draining.body)["ready"]?.boolValue == false)
        }
    }

    @Test func reloadReportsErrors() throws {
        try withServer { server, state in
            let client = try RawClient(port: server.address.port)
            let ok = try client.request("POST", "/reload", extra: "Content-Length: 0\r\n")
            #expect(ok.status == 200)
            #expect(try JSONReader.parse(ok.body)["ok"]?.boolValue == true)
            state.reloadFails.store(true, ordering: .relaxed)
            // A body is accepted and ignored.
            try client.send("POST /reload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello")
            let failed = try client.readResponse()
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
            let client = try RawClient(port: server.address.port)
            let missing = try client.request("GET", "/nope")
            #expect(missing.status == 404)
            #expect(try JSONReader.parse(missing.body)["error"]?.stringValue == "not_found")
            let wrong = try client.request("DELETE", "/metrics")
            #expect(wrong.status == 405)
            #expect(wrong.header("allow") == "GET, HEAD")
            #expect(try JSONReader.parse(wrong.body)["error"]?.stringValue == "method_not_allowed")
            let getReload = try client.request("GET", "/reload")
            #expect(getReload.status == 405 && getReload.header("allow") == "POST")
            #expect(state.reloads.load(ordering: .relaxed) == 0)
        }
    }

    @Test func keepAliveHeadAndPipelining() throws {
        try withServer { server, _ in
            let client = try RawClient(port: server.address.port)
            let head = try client.request("HEAD", "/healthz")
            #expect(head.status == 200 && head.body.isEmpty && head.header("content-length") == "15")
            // Two pipelined requests on the same connection, answered in order.
            try client.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\nGET /nope HTTP/1.1\r\nHost: localhost\r\n\r\n")
            #expect((try? client.readResponse())?.status == 200)
            #expect((try? client.readResponse())?.status == 404)
            let last = try client.request("GET", "/healthz", extra: "Connection: close\r\n")
            #expect(last.status == 200 && last.header("connection") == "close")
            #expect(client.serverClosed())
        }
    }

    @Test func malformedRequestsGet400AndClose() throws {
        try withServer { server, _ in
            let client = try RawClient(port: server.address.port)
            try client.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 400)
            #expect(client.serverClosed())
            let chunked = try RawClient(port: server.address.port)
            try chunked.send("POST /reload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            #expect((try? chunked.readResponse())?.status == 400)
        }
    }
}
