import MeshHTTP1

/// How an upstream's response head is forwarded, decided before anything of it is queued for the client
/// (SPEC §4): whether it switches to a tunnel, whether a chunked body is sent as plain bytes to an HTTP/1.0
/// client, and whether either connection is kept afterwards.
public struct ResponsePlan: Equatable, Sendable {
    /// A 101 the client asked for: the exchange becomes a tunnel.
    public var switching: Bool
    /// A chunked body to an HTTP/1.0 client: de-chunked, delimited by the close.
    public var dechunk: Bool
    /// What the client's response head says about the connection.
    public var persistence: ResponseHeadBuilder.Persistence
    /// The upstream connection may carry another request after this response.
    public var upstreamKeepAlive: Bool

    /// The client connection is kept for another request.
    public var keepsClient: Bool { persistence != .close }

    /// Nil when the response cannot be forwarded: a 101 the client did not ask for would turn its connection
    /// into an unknown protocol.
    ///
    /// - Parameters:
    ///   - upgradeAsked: the request asked for a tunnel the gateway allows (`TrustBoundary.allowsTunnel`).
    ///   - clientLeaving: the client half-closed, or the worker is draining.
    ///   - requestDone: the whole request body was read (bytes left unread would be taken for a next request).
    ///   - requestAbandoned: the upstream answered before taking the whole body.
    public init?(
        status: Int, framing: BodyFraming, upstreamKeepAlive: Bool, upgradeAsked: Bool, clientVersion: HTTPVersion,
        clientKeepAlive: Bool, clientLeaving: Bool, requestDone: Bool, requestAbandoned: Bool
    ) {
        switching = status == 101
        guard !switching || upgradeAsked else { return nil }
        dechunk = framing == .chunked && clientVersion == .http10
        let keepClient =
            clientKeepAlive && !clientLeaving && framing != .untilClose && !dechunk && requestDone && !requestAbandoned
        persistence = !keepClient ? .close : clientVersion == .http10 ? .keepAliveHTTP10 : .keepAlive
        self.upstreamKeepAlive = upstreamKeepAlive && framing != .untilClose && !switching
    }
}
