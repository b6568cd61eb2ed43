import MeshTLS
import MeshTestSupport
import Testing

@Suite struct BadInputTests {
    /// Feeds `bytes` then EOF to a fresh server connection and runs the handshake to its end.
    static func serverResult(after bytes: [UInt8], context: TLSServerContext) throws -> TLSHandshakeResult {
        let server = try TLSConnection(server: context, handshakeDeadlineMs: noDeadline)
        server.feed(bytes)
        let first = server.handshake(nowMs: 0)
        if case .failed = first { return first }
        server.feedEndOfInput()
        return server.handshake(nowMs: 0)
    }

    @Test(arguments: [
        "GET / HTTP/1.1\r\nHost: a.example.com\r\n\r\n", "POST /login HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
        "HEAD / HTTP/1.0\r\n\r\n", "PUT /x HTTP/1.1\r\n\r\n",
    ])
    func plaintextHTTPIsRecognised(request: String) throws {
        #expect(try Self.serverResult(after: Array(request.utf8), context: Fixture.server()) == .failed(.plaintextHTTP))
    }

    /// Property: whatever arrives instead of a ClientHello, the server ends in a failure (never `.done`, never a
    /// crash), and the failure is one of the input's kinds, not a made-up certificate problem.
    @Test func garbageInsteadOfAClientHelloAlwaysFails() throws {
        let context = try Fixture.server()
        var rng = SplitMix64(state: 0x7153)
        for round in 0..<500 {
            var bytes = (0..<Int.random(in: 0..<600, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            // Every fourth input starts like a handshake record so the parser gets past the record header.
            if round % 4 == 0 && bytes.count > 5 { bytes.replaceSubrange(0..<3, with: [0x16, 0x03, 0x01]) }
            let result = try Self.serverResult(after: bytes, context: context)
            switch result {
            case .failed(.notTLS), .failed(.protocolError), .failed(.closedByPeer), .failed(.plaintextHTTP),
                .failed(.alertReceived):
                continue
            default:
                Issue.record("round \(round): \(result) after \(bytes.prefix(16))")
            }
        }
    }

    /// Record headers that cannot start a TLS stream fail at once, with libssl's reason, before EOF.
    @Test(arguments: [
        ([UInt8](repeating: 0, count: 16), "wrong version number"),
        ([0x16, 0x03, 0x01, 0xff, 0xff] + [UInt8](repeating: 1, count: 11), "packet length too long"),
        (Array("SSH-2.0-OpenSSH_9.2\r\n".utf8), "wrong version number"),
    ])
    func nonTLSRecordHeadersAreNamed(bytes: [UInt8], reason: String) throws {
        let server = try TLSConnection(server: try Fixture.server(), handshakeDeadlineMs: noDeadline)
        server.feed(bytes)
        #expect(server.handshake(nowMs: 0) == .failed(.notTLS(reason)))
    }

    @Test func truncatedClientHelloFailsAtEndOfInput() throws {
        let client = try TLSConnection(
            client: try Fixture.client(), serverName: "a.example.com", handshakeDeadlineMs: noDeadline)
        #expect(client.handshake(nowMs: 0) == .wantsWrite)
        let hello = client.takeCiphertext()
        for cut in [1, 4, 5, 6, hello.count / 2, hello.count - 1] {
            #expect(
                try Self.serverResult(after: Array(hello.prefix(cut)), context: Fixture.server())
                    == .failed(.closedByPeer), "cut \(cut)")
        }
    }

    /// Property: a ClientHello delivered in pieces of any size handshakes as well as one delivered whole.
    @Test func handshakeSurvivesAnySegmentation() throws {
        let server = try Fixture.server()
        let clientContext = try Fixture.client()
        var rng = SplitMix64(state: 99)
        for _ in 0..<20 {
            let client = try TLSConnection(
                client: clientContext, serverName: "a.example.com", handshakeDeadlineMs: noDeadline)
            let connection = try TLSConnection(server: server, handshakeDeadlineMs: noDeadline)
            _ = client.handshake(nowMs: 0)
            var hello = client.takeCiphertext()[...]
            while !hello.isEmpty {
                let piece = hello.prefix(Int.random(in: 1...40, using: &rng))
                hello = hello.dropFirst(piece.count)
                connection.feed(Array(piece))
                let step = connection.handshake(nowMs: 0)
                #expect(step == (hello.isEmpty ? .wantsWrite : .needMoreInput))
            }
            client.feed(connection.takeCiphertext())
            let (clientResult, serverResult) = pump(client, connection)
            #expect(clientResult == .done && serverResult == .done)
        }
    }

    @Test func failedConnectionStaysFailed() throws {
        let server = try TLSConnection(server: try Fixture.server(), handshakeDeadlineMs: noDeadline)
        server.feed(Array("GET / HTTP/1.1\r\n\r\n".utf8))
        #expect(server.handshake(nowMs: 0) == .failed(.plaintextHTTP))
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(buffer.withUnsafeMutableBytes { server.read(into: $0) } == .failed(.plaintextHTTP))
        #expect(Array("x".utf8).withUnsafeBytes { server.write($0) } == .plaintextHTTP)
    }
}
