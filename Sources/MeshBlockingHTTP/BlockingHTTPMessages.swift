import MeshHTTP1

/// One request: sent on a fresh connection with `Connection: close` (the blocking client never pools: its callers
/// send a request a second at most, off the request path).
public struct BlockingHTTPRequest: Sendable {
    public var method: String
    /// Host name or IP literal, without brackets; also the TLS server name.
    public var host: String
    public var port: UInt16
    /// The request-target in origin form (`/path?query`).
    public var target: String
    /// Extra header fields; `Host`, `Content-Length` and `Connection` are written by the client. Values come from
    /// the caller's own code, never from a peer (no CR/LF checks here).
    public var headers: [(name: String, value: String)]
    /// nil: no body and no Content-Length.
    public var body: [UInt8]?

    public init(
        method: String, host: String, port: UInt16, target: String,
        headers: [(name: String, value: String)] = [], body: [UInt8]? = nil
    ) {
        self.method = method
        self.host = host
        self.port = port
        self.target = target.isEmpty ? "/" : target
        self.headers = headers
        self.body = body
    }

    /// `Host` header value (RFC 9110 §7.2): the port always written, brackets around IPv6.
    public var hostHeader: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The bytes on the wire: head and body.
    public func serialized() -> [UInt8] {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(hostHeader)\r\n"
        for field in headers { head += "\(field.name): \(field.value)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        head += "Connection: close\r\n\r\n"
        return Array(head.utf8) + (body ?? [])
    }
}

/// A complete final response: status, header fields in order (names as sent), the de-chunked body (the shared
/// `HTTPResponseMessage`, also MeshControl's `HTTPClientResponse` and MeshACME's `ACMEResponse`).
public typealias BlockingHTTPResponse = HTTPResponseMessage
