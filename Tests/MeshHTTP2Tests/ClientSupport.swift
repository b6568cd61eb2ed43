import MeshHTTP2

/// A client connection past the handshake: the server's SETTINGS (`serverSettings`) and its ACK of ours were fed,
/// output drained.
func clientConnected(
    _ limits: HTTP2Limits = HTTP2Limits(), serverSettings: [(UInt16, UInt32)] = [], now: UInt64 = 0
) -> HTTP2ClientConnection {
    var client = HTTP2ClientConnection(limits: limits)
    let events = client.feed(Wire.settings(serverSettings) + Wire.settingsAck, now: now)
    precondition(events.allSatisfy { event in
        switch event {
        case .streamLimitChanged, .windowOpened(0): true
        default: false
        }
    }, "unexpected events in handshake: \(events)")
    _ = client.takeOutbound()
    return client
}

/// A request head as the gateway builds it: pseudo-headers first.
func requestHead(_ method: String = "GET", path: String = "/", _ extra: [(String, String)] = []) -> HTTP2HeaderList {
    HTTP2HeaderList([(":method", method), (":scheme", "http"), (":authority", "upstream"), (":path", path)] + extra)
}

/// A response header block in literal fields (so tests control exactly what the "server" sends).
func responseBlock(_ status: String, _ extra: [(String, String)] = []) -> [UInt8] {
    Wire.block([(":status", status)] + extra)
}

/// The connection error in client events, if any.
func clientConnectionError(_ events: [HTTP2ClientEvent]) -> (HTTP2ErrorCode, HTTP2ConnectionFailure)? {
    for event in events { if case .connectionError(let code, let reason) = event { return (code, reason) } }
    return nil
}

/// The `:status` of every `.response` event.
func statuses(_ events: [HTTP2ClientEvent]) -> [Int] {
    events.compactMap { if case .response(_, let head, _) = $0 { return head.status } else { return nil } }
}

/// A client and a server connection wired to each other in memory: `pump` hands each side's output to the other
/// until both are quiet, collecting events. The server's requests are answered by the test between pumps.
struct Pair {
    var client: HTTP2ClientConnection
    var server: HTTP2ServerConnection
    var clientEvents: [HTTP2ClientEvent] = []
    var serverEvents: [HTTP2Event] = []

    init(client: HTTP2Limits = HTTP2Limits(), server: HTTP2Limits = HTTP2Limits()) {
        self.client = HTTP2ClientConnection(limits: client)
        self.server = HTTP2ServerConnection(limits: server)
    }

    /// Moves bytes both ways until neither side has output; returns the events of this pump only.
    mutating func pump(now: UInt64 = 0) -> (client: [HTTP2ClientEvent], server: [HTTP2Event]) {
        var newClient: [HTTP2ClientEvent] = []
        var newServer: [HTTP2Event] = []
        for _ in 0..<64 {
            let toServer = client.takeOutbound()
            let toClient = server.takeOutbound()
            if toServer.isEmpty && toClient.isEmpty { break }
            if !toServer.isEmpty { newServer += server.feed(toServer, now: now) }
            if !toClient.isEmpty { newClient += client.feed(toClient, now: now) }
        }
        clientEvents += newClient
        serverEvents += newServer
        return (newClient, newServer)
    }
}
