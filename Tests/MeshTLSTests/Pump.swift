import Glibc
import MeshTLS
import MeshTestSupport
import Testing

/// Far enough in the future that no test trips the handshake deadline unless it means to.
let noDeadline: Int64 = .max

/// Drives a client and a server connection against each other through their memory BIOs, as the event loop
/// will through a socket, until neither can make progress. Returns each side's last handshake result.
@discardableResult
func pump(
    _ client: TLSConnection, _ server: TLSConnection, nowMs: Int64 = 0
) -> (client: TLSHandshakeResult, server: TLSHandshakeResult) {
    var results: (client: TLSHandshakeResult, server: TLSHandshakeResult) = (.needMoreInput, .needMoreInput)
    // A full handshake takes 2 round trips, a resumed one 1.5; 10 rounds without progress is a hang.
    for _ in 0..<10 {
        results.client = client.handshake(nowMs: nowMs)
        let toServer = client.takeCiphertext()
        server.feed(toServer)
        results.server = server.handshake(nowMs: nowMs)
        let toClient = server.takeCiphertext()
        client.feed(toClient)
        if toServer.isEmpty && toClient.isEmpty { break }
    }
    return results
}

/// Sends `message` from `sender` and reads it at `receiver`; returns what arrived (also moves any post-handshake
/// bytes the read produced, such as TLS 1.3 tickets, back the other way).
func send(_ message: String, from sender: TLSConnection, to receiver: TLSConnection) -> String {
    let bytes = Array(message.utf8)
    let failure = bytes.withUnsafeBytes { sender.write($0) }
    #expect(failure == nil)
    receiver.feed(sender.takeCiphertext())
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let result = buffer.withUnsafeMutableBytes { receiver.read(into: $0) }
        guard case .bytes(let count) = result, count > 0 else { break }
        received += buffer[0..<count]
    }
    sender.feed(receiver.takeCiphertext())
    return String(decoding: received, as: UTF8.self)
}

/// Contexts built from the shared test PKI.
enum Fixture {
    static var pki: TestPKI { TestPKI.shared }

    /// A pair from the PKI, checked at the real current time.
    static func pair(_ name: String, now: Int64 = wallClock()) throws -> CertificatePair {
        try CertificatePair(certFile: pki.path("\(name).crt"), keyFile: pki.path("\(name).key"), now: now)
    }

    static func server(
        _ names: [String] = ["a", "b", "wild"], configure: (inout TLSServerOptions) -> Void = { _ in },
        ticketKeys: TicketKeyRing? = nil
    ) throws -> TLSServerContext {
        var options = TLSServerOptions()
        configure(&options)
        return try TLSServerContext(certificates: names.map { try pair($0) }, options: options, ticketKeys: ticketKeys)
    }

    static func client(
        ca: String = "ca", certificate: String? = nil, configure: (inout TLSClientOptions) -> Void = { _ in }
    ) throws -> TLSClientContext {
        var options = TLSClientOptions()
        options.caFile = pki.path("\(ca).crt")
        options.clientCertificate = try certificate.map { try pair($0) }
        configure(&options)
        return try TLSClientContext(options: options)
    }

    static func wallClock() -> Int64 { Int64(time(nil)) }
}

/// A connected pair, after pumping the handshake.
struct Handshake {
    let client: TLSConnection
    let server: TLSConnection
    let clientResult: TLSHandshakeResult
    let serverResult: TLSHandshakeResult

    init(
        client clientContext: TLSClientContext, server serverContext: TLSServerContext, name: String,
        session: TLSSession? = nil
    ) throws {
        client = try TLSConnection(
            client: clientContext, serverName: name, session: session, handshakeDeadlineMs: noDeadline)
        server = try TLSConnection(server: serverContext, handshakeDeadlineMs: noDeadline)
        (clientResult, serverResult) = pump(client, server)
    }
}
