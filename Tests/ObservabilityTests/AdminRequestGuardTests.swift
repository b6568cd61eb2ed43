import MeshGateway
import MeshPosix
import MeshTestSupport
import Testing

/// The admin listener refuses what only a web page would send (SPEC §6; DNS rebinding and cross-site
/// `POST /reload`), over real sockets: a `Host` that is not the listener itself, and a `POST` whose `Origin`
/// is another site. Nothing refused reaches a hook.
@Suite(.serialized) struct AdminRequestGuardTests {
    func withServer(bind: String = "127.0.0.1", _ body: (AdminServer, HookState) throws -> Void) throws {
        let state = HookState()
        let server = try AdminServer(address: SocketAddress(numericHost: bind, port: 0)!, hooks: state.hooks)
        server.start()
        defer { server.stop() }
        try body(server, state)
    }

    /// One request with exactly these header lines on a fresh connection to 127.0.0.1.
    func send(_ server: AdminServer, _ method: String, _ path: String, _ lines: String) -> HTTPResponse? {
        guard let client = try? RawClient(port: server.address.port) else { return nil }
        let body = method == "POST" ? "Content-Length: 0\r\n" : ""
        return try? client.request("\(method) \(path) HTTP/1.1\r\n\(lines)\(body)Connection: close\r\n\r\n")
    }

    // Regression: issue 10 — any web page could POST /reload (DNS rebinding, CSRF).
    @Test(arguments: [
        "evil.example", "evil.example:PORT", "localhost.evil.example", "127.0.0.1.nip.io:PORT", "admin",
        "10.1.2.3:PORT", "[::2]:PORT",
    ])
    func foreignHostsAreRefusedForEveryPath(host: String) throws {
        try withServer { server, state in
            let value = host.replacingPort(server.address.port)
            for (method, path) in [("GET", "/config"), ("GET", "/metrics"), ("POST", "/reload"), ("GET", "/")] {
                let response = try #require(send(server, method, path, "Host: \(value)\r\n"), "\(method) \(path)")
                #expect(response.status == 403, "\(method) \(path) Host: \(value) → \(response.status)")
                #expect(response.bodyText == #"{"error":"host_not_allowed"}"#, "\(response.bodyText)")
                #expect(response.header("content-type") == "application/json")
            }
            #expect(state.reloads.load(ordering: .relaxed) == 0)
        }
    }

    /// Malformed authorities are never served: the parser (400) or the guard (403) stops them.
    @Test(arguments: ["localhost:x", "localhost:PORT:1", "[::1", "127.0.0.1:123456", "localhost:"])
    func malformedHostsAreNeverServed(host: String) throws {
        try withServer { server, state in
            let value = host.replacingPort(server.address.port)
            let response = try #require(send(server, "POST", "/reload", "Host: \(value)\r\n"))
            #expect(response.status == 400 || response.status == 403, "Host: \(value) → \(response.status)")
            #expect(state.reloads.load(ordering: .relaxed) == 0)
        }
    }

    @Test(arguments: ["localhost", "LOCALHOST:PORT", "localhost:1234", "127.0.0.1", "127.0.0.1:PORT", "[::1]:PORT"])
    func localNamesAreServed(host: String) throws {
        try withServer { server, state in
            let value = host.replacingPort(server.address.port)
            let config = try #require(send(server, "GET", "/config", "Host: \(value)\r\n"))
            #expect(config.status == 200, "Host: \(value)")
            let reload = try #require(send(server, "POST", "/reload", "Host: \(value)\r\n"))
            #expect(reload.status == 200, "Host: \(value)")
            #expect(state.reloads.load(ordering: .relaxed) == 1)
        }
    }

    @Test func aRequestWithoutHostIsServed() throws {
        try withServer { server, _ in
            let client = try RawClient(port: server.address.port)
            try client.send("GET /healthz HTTP/1.0\r\n\r\n")
            #expect((try? client.readResponse())?.status == 200)
        }
    }

    @Test(arguments: [
        "http://evil.example", "http://evil.example:PORT", "null", "https://localhost:PORT", "file://",
        "http://localhost.evil.example", "http://10.0.0.1:PORT",
    ])
    func crossSitePostsAreRefused(origin: String) throws {
        try withServer { server, state in
            let port = server.address.port
            let lines = "Host: 127.0.0.1:\(port)\r\nOrigin: \(origin.replacingPort(port))\r\n"
            let response = try #require(send(server, "POST", "/reload", lines))
            #expect(response.status == 403, "Origin: \(origin)")
            #expect(response.bodyText == #"{"error":"origin_not_allowed"}"#)
            #expect(state.reloads.load(ordering: .relaxed) == 0)
            // A GET is never state-changing: the same Origin on a read is answered (CORS keeps it unreadable).
            #expect(send(server, "GET", "/healthz", lines)?.status == 200)
        }
    }

    @Test(arguments: ["http://localhost:PORT", "http://127.0.0.1:PORT", "http://[::1]:PORT", "HTTP://LOCALHOST"])
    func sameHostOriginsMayPost(origin: String) throws {
        try withServer { server, state in
            let port = server.address.port
            let lines = "Host: localhost:\(port)\r\nOrigin: \(origin.replacingPort(port))\r\n"
            #expect(send(server, "POST", "/reload", lines)?.status == 200, "Origin: \(origin)")
            #expect(state.reloads.load(ordering: .relaxed) == 1)
        }
    }

    @Test func twoOriginsAreRefused() throws {
        try withServer { server, state in
            let port = server.address.port
            let lines = "Host: localhost:\(port)\r\nOrigin: http://localhost:\(port)\r\nOrigin: http://evil.example\r\n"
            #expect(send(server, "POST", "/reload", lines)?.status == 403)
            #expect(state.reloads.load(ordering: .relaxed) == 0)
        }
    }

    /// A wildcard bind (Kubernetes: the kubelet and Prometheus use the Pod IP) serves any IP literal, never a
    /// DNS name.
    @Test func aWildcardListenerServesIPLiteralsOnly() throws {
        try withServer(bind: "0.0.0.0") { server, _ in
            let port = server.address.port
            #expect(send(server, "GET", "/readyz", "Host: 10.1.2.3:\(port)\r\n")?.status == 200)
            #expect(send(server, "GET", "/readyz", "Host: 127.0.0.1:\(port)\r\n")?.status == 200)
            #expect(send(server, "GET", "/readyz", "Host: pod.example:\(port)\r\n")?.status == 403)
            #expect(send(server, "GET", "/readyz", "Host: 10.1.2:\(port)\r\n")?.status == 403)
        }
    }
}

extension String {
    /// `PORT` replaced by `port`.
    fileprivate func replacingPort(_ port: UInt16) -> String {
        split(separator: "PORT", omittingEmptySubsequences: false).joined(separator: "\(port)")
    }
}
