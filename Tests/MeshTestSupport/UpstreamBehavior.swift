/// How a `TestUpstream` answers each request it receives.
public enum UpstreamBehavior: Sendable {
    /// The same response every time (framed by Content-Length, or chunked when `reply.chunked`).
    case fixed(UpstreamReply)
    /// 200 whose body is the raw request head followed by the request body (as far as it was kept).
    case echo
    /// 101 Switching Protocols, then every byte received is written back unchanged until the peer closes.
    case upgrade
    /// Reads the request, never answers, and holds the connection until the peer or shutdown closes it.
    case neverAnswer
    /// Writes `partial` (e.g. a head and part of its body), then holds the connection silently until the peer or
    /// shutdown closes it.
    case stall(partial: [UInt8])
    /// Waits `delayMs` (woken early if the peer closes), then sends `reply`.
    case slow(delayMs: Int, reply: UpstreamReply)
    /// Writes `partial` (e.g. half a head, or a head and part of a body) then closes with SO_LINGER 0 (RST).
    case reset(partial: [UInt8])
    /// 503 for the first `failures` requests (counted over all connections), then 200 `ok`.
    case failThenSucceed(failures: Int)
    /// `HTTP/1.1 200` with neither Content-Length nor Transfer-Encoding: the body ends when the connection closes.
    case closeDelimited(body: [UInt8])
    /// Writes `bytes` exactly (e.g. a malformed response) and closes normally (FIN).
    case raw([UInt8])
    /// Writes `bytes` exactly for every request and keeps the connection for the next one (e.g. a response the
    /// gateway must not reuse the connection after, or one followed by stray bytes).
    case rawKeepAlive([UInt8])
    /// 200 with a generated `PatternBody` of `bytes` bytes, Content-Length or chunked in 64 KiB chunks.
    case stream(bytes: Int, chunked: Bool)
    /// Each request as the behaviour its request-target (path and query) picks, e.g. a key set at one path and a
    /// 404 at the others.
    case byTarget(@Sendable (String) -> UpstreamBehavior)
}

/// A response a `TestUpstream` sends.
public struct UpstreamReply: Sendable {
    /// Status code.
    public var status: Int
    /// Header fields written as given (framing headers are added by the upstream).
    public var headers: [HTTPField]
    /// Body bytes (not sent for HEAD requests or 1xx/204/304 statuses).
    public var body: [UInt8]
    /// Chunked framing instead of Content-Length.
    public var chunked: Bool

    /// Builds a reply; `headers` are (name, value) pairs.
    public init(status: Int = 200, headers: [(String, String)] = [], body: String = "", chunked: Bool = false) {
        self.status = status
        self.headers = headers.map { HTTPField(name: $0.0, value: $0.1) }
        self.body = Array(body.utf8)
        self.chunked = chunked
    }

    /// Serialises head and body for a request with `method`.
    func bytes(method: String) -> [UInt8] {
        let bodyAllowed = method != "HEAD" && status >= 200 && status != 204 && status != 304
        var head = "HTTP/1.1 \(status) \(UpstreamReply.reason(status))\r\n"
        for field in headers { head += "\(field.name): \(field.value)\r\n" }
        if status >= 200 && status != 204 && status != 304 {
            head += chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        var out = Array(head.utf8)
        guard bodyAllowed else { return out }
        if chunked {
            if !body.isEmpty { out += Array("\(String(body.count, radix: 16))\r\n".utf8) + body + [13, 10] }
            out += Array("0\r\n\r\n".utf8)
        } else {
            out += body
        }
        return out
    }

    /// A reason phrase for the statuses the tests use.
    static func reason(_ status: Int) -> String {
        switch status {
        case 101: "Switching Protocols"
        case 200: "OK"
        case 204: "No Content"
        case 304: "Not Modified"
        case 404: "Not Found"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}

/// One request as a `TestUpstream` received it.
public struct ReceivedRequest: Sendable, CustomStringConvertible {
    /// Which accepted TCP connection it came on (1 = the first one this upstream accepted).
    public let connection: Int
    /// The head exactly as received, parsed.
    public let head: HTTPHead
    /// The first `TestUpstream.keptBodyBytes` bytes of the body.
    public let body: [UInt8]
    /// Every body byte counted (after de-chunking).
    public let bodyCount: Int
    /// Whether the body equals `PatternBody` (meaningful for generated bodies).
    public let bodyMatchesPattern: Bool
    /// Whether it came chunked.
    public let chunked: Bool
    /// The trailer field lines of a chunked body, as received.
    public var trailers: [String] = []
    /// `TestSocket.nowMs()` when the request was read whole (a lower bound for anything caused by its answer,
    /// unlike the time a test thread happens to notice it).
    public var receivedAtMs: Int = 0

    /// Request method.
    public var method: String { head.startLine[0] }
    /// Request target as received.
    public var target: String { head.startLine[1] }
    /// HTTP version as received.
    public var version: String { head.startLine[2] }
    /// Body as text.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// Short form for failure messages: start line, connection and body size.
    public var description: String {
        "\(method) \(target) \(version) (connection \(connection), body \(bodyCount) bytes)"
    }
}
