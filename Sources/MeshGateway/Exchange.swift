import MeshHTTP1
import MeshProxy

/// What one request/response exchange on a client connection has done so far.
struct Exchange {
    var route: CompiledRoute?
    var method: HTTPMethod = .get
    var clientVersion: HTTPVersion = .http11
    var clientKeepAlive = true
    var request = BodyCursor()
    var response = BodyCursor()
    /// The response head (the upstream's or the gateway's own) has been queued for the client.
    var responseStarted = false
    /// The response is the gateway's own (an error); no upstream is involved any more.
    var local = false
    /// Close the client connection once the response is written.
    var closeAfter = false
    /// Upstream chunked body sent to an HTTP/1.0 client as plain bytes.
    var dechunk = false
    var upgrade = false
    /// The upstream connection may carry another request after this response.
    var upstreamKeepAlive = false
    /// The whole request (head + body) is still in the client buffer and the built upstream head is kept, so
    /// it can be sent again on another connection.
    var replayable = false
    var bodyOffset = 0
    var bodyCount = 0
    var endpoint: EndpointPool?
    var startedMs: Int64 = 0
    var bytesIn = 0
    var bytesOut = 0

    mutating func reset(startedMs: Int64) {
        self = Exchange()
        self.startedMs = startedMs
    }
}
