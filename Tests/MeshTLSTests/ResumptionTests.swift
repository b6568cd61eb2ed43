import Dispatch
import MeshSync
@testable import MeshTLS
import MeshTestSupport
import Testing

@Suite struct ResumptionTests {
    /// A full handshake and one exchange (TLS 1.3 tickets arrive after the handshake), then the session.
    static func firstSession(
        _ client: TLSClientContext, _ server: TLSServerContext
    ) throws -> TLSSession {
        let first = try Handshake(client: client, server: server, name: "a.example.com")
        #expect(first.clientResult == .done && first.serverResult == .done)
        #expect(!first.server.sessionReused)
        _ = send("ping", from: first.server, to: first.client)
        return try #require(first.client.session)
    }

    @Test(arguments: [TLSVersion.tls12, .tls13])
    func ticketResumesTheSession(version: TLSVersion) throws {
        let server = try Fixture.server()
        let client = try Fixture.client { $0.maximumVersion = version }
        let session = try Self.firstSession(client, server)
        let second = try Handshake(client: client, server: server, name: "a.example.com", session: session)
        #expect(second.serverResult == .done)
        #expect(second.server.sessionReused)
        #expect(second.client.sessionReused)
        #expect(send("ok", from: second.client, to: second.server) == "ok")
    }

    // Regression: issue 11 — a session resumed once stopped resuming: libssl marks the session of a connection
    // freed without close_notify (how upstream connections end) unresumable, and that was the shared TLSSession.
    @Test(arguments: [TLSVersion.tls12, .tls13])
    func oneSessionResumesManyConnections(version: TLSVersion) throws {
        let server = try Fixture.server()
        let client = try Fixture.client { $0.maximumVersion = version }
        let session = try Self.firstSession(client, server)
        for round in 0..<3 {
            let pair = try Handshake(client: client, server: server, name: "a.example.com", session: session)
            #expect(pair.server.sessionReused, "round \(round)")
        }
    }

    /// Each resumed connection gets a fresh ticket, and the session it leaves resumes the next connection: what a
    /// client that keeps its last connection's session (OpenSSL's SSL_clear, wrk) relies on. Regression: issue 11 —
    /// a TLS 1.3 resumption without renewal sent no ticket, so every other connection was a full handshake.
    @Test(arguments: [TLSVersion.tls12, .tls13])
    func aResumedConnectionLeavesASessionThatResumesAgain(version: TLSVersion) throws {
        let server = try Fixture.server()
        let client = try Fixture.client { $0.maximumVersion = version }
        var session = try Self.firstSession(client, server)
        for round in 0..<4 {
            let pair = try Handshake(client: client, server: server, name: "a.example.com", session: session)
            #expect(pair.server.sessionReused, "round \(round)")
            _ = send("ping", from: pair.server, to: pair.client)
            let next = try #require(pair.client.session, "round \(round): no session after a resumption")
            #expect(!next.ticket.isEmpty && next.ticket != session.ticket, "round \(round): no new ticket")
            session = next
        }
    }

    @Test func ticketsResumeOnAnotherContextSharingTheRing() throws {
        // Workers share one context; a reload builds a new one with the same ring.
        let ring = TicketKeyRing()
        let client = try Fixture.client()
        let session = try Self.firstSession(client, try Fixture.server(ticketKeys: ring))
        let second = try Handshake(
            client: client, server: try Fixture.server(ticketKeys: ring), name: "a.example.com", session: session)
        #expect(second.server.sessionReused)
    }

    @Test func ticketsFromAnotherRingDoNotResume() throws {
        let client = try Fixture.client()
        let session = try Self.firstSession(client, try Fixture.server())
        let second = try Handshake(
            client: client, server: try Fixture.server(), name: "a.example.com", session: session)
        #expect(second.serverResult == .done)
        #expect(!second.server.sessionReused)
    }

    @Test(arguments: [TLSVersion.tls12, .tls13])
    func rotatedKeysDecryptUntilTheyAgeOut(version: TLSVersion) throws {
        let ring = TicketKeyRing(retained: 2)
        let server = try Fixture.server(ticketKeys: ring)
        let client = try Fixture.client { $0.maximumVersion = version }
        let session = try Self.firstSession(client, server)
        ring.rotate()
        ring.rotate()
        let stillGood = try Handshake(client: client, server: server, name: "a.example.com", session: session)
        #expect(stillGood.server.sessionReused)
        ring.rotate()
        #expect(ring.keyCount == 3)
        let aged = try Handshake(client: client, server: server, name: "a.example.com", session: session)
        #expect(aged.serverResult == .done)
        #expect(!aged.server.sessionReused)
    }

    /// The ring rotates by itself once its newest key is `rotationSeconds` old: the next ticket is under a new
    /// key, and a ticket under the previous one still resumes (and is renewed).
    @Test(arguments: [TLSVersion.tls12, .tls13])
    func theRingRotatesItselfWhenItsKeyIsOld(version: TLSVersion) throws {
        let now = Locked<Int64>(1000)
        let ring = TicketKeyRing(retained: 1, rotationSeconds: 60, clock: { now.withLock { $0 } })
        let server = try Fixture.server(ticketKeys: ring)
        let client = try Fixture.client { $0.maximumVersion = version }
        let early = try Self.firstSession(client, server)
        now.withLock { $0 += 59 }
        _ = try Self.firstSession(client, server)
        #expect(ring.keyCount == 1, "rotated before the period")
        now.withLock { $0 += 1 }
        _ = try Self.firstSession(client, server)
        #expect(ring.keyCount == 2)
        let resumed = try Handshake(client: client, server: server, name: "a.example.com", session: early)
        #expect(resumed.server.sessionReused)
        // Two more periods: the early ticket's key has aged out of the ring (retained 1).
        now.withLock { $0 += 60 }
        _ = try Self.firstSession(client, server)
        #expect(ring.keyCount == 2)
        let aged = try Handshake(client: client, server: server, name: "a.example.com", session: early)
        #expect(!aged.server.sessionReused)
    }

    @Test func sessionDoesNotCarryIntoAContextWithAClientCertificatePolicy() throws {
        let ring = TicketKeyRing()
        let client = try Fixture.client()
        let session = try Self.firstSession(client, try Fixture.server(ticketKeys: ring))
        let strict = try Fixture.server(
            configure: {
                $0.clientCAFile = Fixture.pki.path("ca.crt")
                $0.requireClientCert = true
            }, ticketKeys: ring)
        let second = try Handshake(client: client, server: strict, name: "a.example.com", session: session)
        #expect(!second.server.sessionReused)
        #expect(second.serverResult == .failed(.peerCertificateMissing))
    }
}

@Suite struct SharedContextTests {
    /// Workers share one server context and its ticket ring while a control thread rotates keys: every handshake
    /// completes (the callback and rotation only meet inside the ring's lock).
    @Test func handshakesOnManyThreadsWhileKeysRotate() throws {
        let server = try Fixture.server()
        let client = try Fixture.client()
        let session = try ResumptionTests.firstSession(client, server)
        let failures = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 5) { worker in
            for _ in 0..<20 {
                if worker == 0 {
                    server.ticketKeys.rotate()
                    continue
                }
                let pair = try? Handshake(client: client, server: server, name: "a.example.com", session: session)
                if pair?.serverResult != .done || pair?.clientResult != .done { failures.withLock { $0 += 1 } }
            }
        }
        #expect(failures.withLock { $0 } == 0)
        #expect(server.ticketKeys.keyCount == 3)
    }

    /// A ticket issued on one thread resumes on every other thread sharing the context.
    @Test func ticketFromOneThreadResumesOnOthers() throws {
        let server = try Fixture.server()
        let client = try Fixture.client()
        let session = try ResumptionTests.firstSession(client, server)
        let reused = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<10 {
                let pair = try? Handshake(client: client, server: server, name: "a.example.com", session: session)
                if pair?.server.sessionReused == true { reused.withLock { $0 += 1 } }
            }
        }
        #expect(reused.withLock { $0 } == 40)
    }
}
