@testable import MeshTLS
import CSSL
import MeshTestSupport
import Testing

@Suite struct HandshakeTests {
    @Test(arguments: [TLSVersion.tls12, .tls13])
    func handshakeAndDataBothWays(version: TLSVersion) throws {
        let server = try Fixture.server()
        let client = try Fixture.client {
            $0.minimumVersion = version; $0.maximumVersion = version
        }
        let pair = try Handshake(client: client, server: server, name: "a.example.com")
        #expect(pair.clientResult == .done)
        #expect(pair.serverResult == .done)
        let expected = version == .tls12 ? "TLSv1.2" : "TLSv1.3"
        #expect(pair.client.protocolVersion == expected)
        #expect(pair.server.protocolVersion == expected)
        #expect(send("GET / HTTP/1.1\r\n\r\n", from: pair.client, to: pair.server) == "GET / HTTP/1.1\r\n\r\n")
        #expect(
            send("HTTP/1.1 204 No Content\r\n\r\n", from: pair.server, to: pair.client)
                == "HTTP/1.1 204 No Content\r\n\r\n")
    }

    @Test func minimumVersionRefusesOlderClients() throws {
        let server = try Fixture.server { $0.minimumVersion = .tls13 }
        let client = try Fixture.client { $0.maximumVersion = .tls12 }
        let pair = try Handshake(client: client, server: server, name: "a.example.com")
        guard case .failed = pair.serverResult else {
            Issue.record("server accepted TLS 1.2 with min_version 1.3: \(pair.serverResult)")
            return
        }
        guard case .failed = pair.clientResult else {
            Issue.record("client finished: \(pair.clientResult)")
            return
        }
    }

    @Test func firstStepOfAClientWantsWriteAndServerNeedsInput() throws {
        let client = try TLSConnection(
            client: try Fixture.client(), serverName: "a.example.com", handshakeDeadlineMs: 10)
        let server = try TLSConnection(server: try Fixture.server(), handshakeDeadlineMs: 10)
        #expect(server.handshake(nowMs: 0) == .needMoreInput)
        #expect(client.handshake(nowMs: 0) == .wantsWrite)
        #expect(client.pendingCiphertextCount > 0)
    }

    @Test func handshakeDeadlineIsTheCallersClock() throws {
        let server = try TLSConnection(server: try Fixture.server(), handshakeDeadlineMs: 1_000)
        #expect(server.handshake(nowMs: 999) == .needMoreInput)
        #expect(server.handshake(nowMs: 1_000) == .failed(.handshakeTimeout))
        // Failed for good: later steps and bytes do not revive it.
        server.feed(Array("anything".utf8))
        #expect(server.handshake(nowMs: 0) == .failed(.handshakeTimeout))
    }

    @Test func alpnServerPreferenceAmongOfferedProtocols() throws {
        let server = try Fixture.server { $0.alpn = ["h2", "http/1.1"] }
        let client = try Fixture.client { $0.alpn = ["http/1.1", "h2"] }
        let pair = try Handshake(client: client, server: server, name: "a.example.com")
        #expect(pair.serverResult == .done)
        #expect(pair.server.negotiatedProtocol == "h2")
        #expect(pair.client.negotiatedProtocol == "h2")
    }

    @Test func alpnDefaultIsHTTP11() throws {
        let pair = try Handshake(
            client: try Fixture.client { $0.alpn = ["h2", "http/1.1"] }, server: try Fixture.server(),
            name: "a.example.com")
        #expect(pair.serverResult == .done)
        #expect(pair.server.negotiatedProtocol == "http/1.1")
    }

    @Test func alpnWithoutOverlapFailsTheHandshake() throws {
        let pair = try Handshake(
            client: try Fixture.client { $0.alpn = ["h2"] }, server: try Fixture.server(), name: "a.example.com")
        #expect(pair.serverResult == .failed(.noApplicationProtocol))
        #expect(pair.clientResult == .failed(.noApplicationProtocol))
    }

    @Test func clientWithoutALPNIsServed() throws {
        let pair = try Handshake(
            client: try Fixture.client { $0.alpn = [] }, server: try Fixture.server(), name: "a.example.com")
        #expect(pair.serverResult == .done)
        #expect(pair.server.negotiatedProtocol == nil)
    }

    @Test func closeNotifyEndsTheStream() throws {
        let pair = try Handshake(client: try Fixture.client(), server: try Fixture.server(), name: "a.example.com")
        pair.client.shutdown()
        pair.server.feed(pair.client.takeCiphertext())
        var buffer = [UInt8](repeating: 0, count: 64)
        #expect(buffer.withUnsafeMutableBytes { pair.server.read(into: $0) } == .closed)
    }

    @Test func truncationWithoutCloseNotifyIsAFailureNotAnEnd() throws {
        let pair = try Handshake(client: try Fixture.client(), server: try Fixture.server(), name: "a.example.com")
        pair.server.feedEndOfInput()
        var buffer = [UInt8](repeating: 0, count: 64)
        #expect(buffer.withUnsafeMutableBytes { pair.server.read(into: $0) } == .failed(.closedByPeer))
    }

    @Test func badConfigurationsAreErrors() throws {
        #expect(throws: TLSConfigurationError.self) { try TLSServerContext(certificates: []) }
        #expect(throws: TLSConfigurationError.self) { try Fixture.server { $0.alpn = [] } }
        #expect(throws: TLSConfigurationError.self) {
            try Fixture.server { $0.alpn = [String(repeating: "x", count: 256)] }
        }
        #expect(throws: TLSLoadError.self) { try Fixture.server { $0.clientCAFile = "/nonexistent/ca.crt" } }
    }
}

@Suite struct IdleMemoryTests {
    /// A keep-alive connection that carried a large body keeps at most one record's worth of BIO memory per
    /// direction once drained, and keeps working after its BIOs were replaced.
    @Test func drainedConnectionsGiveLargeBuffersBack() throws {
        let pair = try Handshake(client: try Fixture.client(), server: try Fixture.server(), name: "a.example.com")
        let body = String(repeating: "0123456789abcdef", count: 16_384)  // 256 KiB
        #expect(send(body, from: pair.server, to: pair.client) == body)
        #expect(send(body, from: pair.client, to: pair.server) == body)
        for connection in [pair.server, pair.client] {
            #expect(connection.pendingCiphertextCount == 0)
            #expect(connection.bufferedCapacity <= 2 * TLSConnection.idleBIOCapacity)
        }
        #expect(send("GET /again HTTP/1.1\r\n\r\n", from: pair.client, to: pair.server) == "GET /again HTTP/1.1\r\n\r\n")
        pair.server.feedEndOfInput()
        var buffer = [UInt8](repeating: 0, count: 64)
        #expect(buffer.withUnsafeMutableBytes { pair.server.read(into: $0) } == .failed(.closedByPeer))
    }
}

/// OpenSSL's error queue is per thread and shared by every connection a worker serves: an error another call left
/// there must not be read as this connection's (`SSL_get_error` consults the queue). `TLSConnection` empties it
/// before each call — only when it holds something, since emptying an empty queue cost ~800 instructions a call.
@Suite struct ErrorQueueTests {
    /// A failed libcrypto call that leaves its error queued (as a failing call elsewhere on the worker would).
    private static func leaveAStaleError() {
        #expect(BIO_new_file("/nonexistent/meshgate-error-queue", "r") == nil)
        #expect(ERR_peek_error() != 0)
    }

    @Test func aStaleErrorIsNotTakenForThisConnectionsFailure() throws {
        let pair = try Handshake(client: try Fixture.client(), server: try Fixture.server(), name: "a.example.com")
        var buffer = [UInt8](repeating: 0, count: 64)
        Self.leaveAStaleError()
        #expect(buffer.withUnsafeMutableBytes { pair.server.read(into: $0) } == .needMoreInput)
        Self.leaveAStaleError()
        #expect(send("after a stale error", from: pair.client, to: pair.server) == "after a stale error")
        #expect(ERR_peek_error() == 0)
        #expect(send("and an empty queue", from: pair.server, to: pair.client) == "and an empty queue")
    }
}

@Suite struct PartialInputTests {
    /// Ciphertext arriving a few bytes at a time (a record split across reads, the header itself split): every read
    /// before the record is whole says "need more input" — also once the read BIO is empty while libssl holds part
    /// of a record — and the record's plaintext comes out whole after its last byte, also when it is read in
    /// parts smaller than the record (decrypted bytes libssl holds with nothing left in the read BIO).
    @Test(arguments: [1, 3, 7, 100])
    func recordsFedInPiecesAreReadWhole(piece: Int) throws {
        let pair = try Handshake(client: try Fixture.client(), server: try Fixture.server(), name: "a.example.com")
        let message = Array(String(repeating: "partial records ", count: 40).utf8)
        #expect(message.withUnsafeBytes { pair.client.write($0) } == nil)
        let ciphertext = pair.client.takeCiphertext()
        var buffer = [UInt8](repeating: 0, count: 50)
        var received: [UInt8] = []
        var offset = 0
        while offset < ciphertext.count {
            let end = min(offset + piece, ciphertext.count)
            pair.server.feed(Array(ciphertext[offset..<end]))
            offset = end
            while case .bytes(let count) = buffer.withUnsafeMutableBytes({ pair.server.read(into: $0) }), count > 0 {
                received += buffer[0..<count]
            }
            if offset < ciphertext.count { #expect(received.isEmpty) }
        }
        #expect(received == message)
        #expect(buffer.withUnsafeMutableBytes { pair.server.read(into: $0) } == .needMoreInput)
    }
}
