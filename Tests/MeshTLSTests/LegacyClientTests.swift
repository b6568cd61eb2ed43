import CSSL
import MeshTLS
import MeshTestSupport
import Testing

/// A client built on libssl directly, without meshgate's policy (any version, any cipher, renegotiation
/// allowed): what an old or hostile client can offer, to show the server refuses it.
final class LegacyClient {
    let context: OpaquePointer
    let ssl: OpaquePointer
    let readBIO: OpaquePointer
    let writeBIO: OpaquePointer

    init(maximumVersion: Int32, ciphers: String) throws {
        context = try #require(SSL_CTX_new(TLS_client_method()))
        // Security level 0 and no minimum: the client offers whatever it is told to, as old clients do.
        SSL_CTX_set_security_level(context, 0)
        _ = SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, 0, nil)
        _ = SSL_CTX_ctrl(context, SSL_CTRL_SET_MAX_PROTO_VERSION, Int(maximumVersion), nil)
        #expect(SSL_CTX_set_cipher_list(context, ciphers) == 1)
        ssl = try #require(SSL_new(context))
        readBIO = try #require(BIO_new(BIO_s_mem()))
        writeBIO = try #require(BIO_new(BIO_s_mem()))
        SSL_set_bio(ssl, readBIO, writeBIO)
        SSL_set_connect_state(ssl)
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
    }

    /// Runs the client's side once; true when its handshake is complete.
    func step() -> Bool { SSL_do_handshake(ssl) == 1 }

    /// Moves bytes both ways between this client and `server` until neither side has anything to send.
    func exchange(with server: TLSConnection) -> (clientDone: Bool, server: TLSHandshakeResult) {
        var clientDone = false
        var serverResult = TLSHandshakeResult.needMoreInput
        for _ in 0..<10 {
            clientDone = step()
            var moved = move(from: writeBIO)
            server.feed(moved)
            serverResult = server.handshake(nowMs: 0)
            let back = server.takeCiphertext()
            receive(back)
            moved += back
            if moved.isEmpty { break }
        }
        return (clientDone, serverResult)
    }

    /// Everything the client has queued for the server.
    func drain() -> [UInt8] { move(from: writeBIO) }

    /// Bytes from the server.
    func receive(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { _ = BIO_write(readBIO, $0.baseAddress, Int32($0.count)) }
    }

    private func move(from bio: OpaquePointer) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Int(BIO_ctrl_pending(bio)))
        let count = bytes.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32($0.count)) }
        return Array(bytes.prefix(max(0, Int(count))))
    }
}

@Suite struct LegacyClientTests {
    @Test(arguments: [TLS1_VERSION, TLS1_1_VERSION])
    func versionsBelowTLS12AreRefused(version: Int32) throws {
        let client = try LegacyClient(maximumVersion: version, ciphers: "ALL:@SECLEVEL=0")
        let server = try TLSConnection(server: try Fixture.server(), handshakeDeadlineMs: noDeadline)
        let (clientDone, result) = client.exchange(with: server)
        #expect(!clientDone)
        #expect(result == .failed(.protocolError("unsupported protocol")))
    }

    @Test(arguments: ["AES128-SHA", "AES256-SHA256", "ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES256-SHA384"])
    func tls12SuitesOutsideTheIntermediateListAreRefused(cipher: String) throws {
        let client = try LegacyClient(maximumVersion: TLS1_2_VERSION, ciphers: cipher + ":@SECLEVEL=0")
        let server = try TLSConnection(server: try Fixture.server(), handshakeDeadlineMs: noDeadline)
        let (clientDone, result) = client.exchange(with: server)
        #expect(!clientDone)
        #expect(result == .failed(.protocolError("no shared cipher")))
    }

    @Test func intermediateSuiteIsAccepted() throws {
        let client = try LegacyClient(maximumVersion: TLS1_2_VERSION, ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256")
        let server = try TLSConnection(server: try Fixture.server(), handshakeDeadlineMs: noDeadline)
        let (clientDone, result) = client.exchange(with: server)
        #expect(clientDone)
        #expect(result == .done)
    }

    /// Renegotiation is refused: the client's second handshake never completes and ends in libssl's
    /// no_renegotiation error, while the server's connection carries on with its first identity.
    @Test func renegotiationIsRefused() throws {
        let client = try LegacyClient(maximumVersion: TLS1_2_VERSION, ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256")
        let server = try TLSConnection(server: try Fixture.server(), handshakeDeadlineMs: noDeadline)
        #expect(client.exchange(with: server).server == .done)
        #expect(SSL_renegotiate(client.ssl) == 1)
        var clientError = ""
        var buffer = [UInt8](repeating: 0, count: 64)
        // Enough rounds for a full renegotiation if the server played along.
        for _ in 0..<5 {
            ERR_clear_error()
            let step = SSL_do_handshake(client.ssl)
            if step <= 0, SSL_get_error(client.ssl, step) == SSL_ERROR_SSL {
                clientError = String(cString: ERR_reason_error_string(ERR_get_error()))
                break
            }
            server.feed(client.drain())
            #expect(buffer.withUnsafeMutableBytes { server.read(into: $0) } == .needMoreInput)
            client.receive(server.takeCiphertext())
        }
        #expect(clientError == "no renegotiation")
        #expect(SSL_renegotiate_pending(client.ssl) == 1)
        #expect(server.protocolVersion == "TLSv1.2")
    }
}
