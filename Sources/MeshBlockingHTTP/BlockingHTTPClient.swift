import MeshTLS

/// The one blocking HTTP/1.1 client, for code that runs on its own thread off the request path (the ACME
/// client, the OTLP exporter, the demo's readiness checks); the event loop's client is MeshControl's
/// `HTTPClient`. One connection per request (`Connection: close`): its callers send a request a second at most,
/// so a pooled connection would save nothing worth its state.
///
/// The socket is non-blocking and every wait is a `poll` bounded by what is left of one deadline
/// (`DeadlineSocket`), the TLS handshake included, so a peer that accepts and never answers costs at most
/// `timeoutMs`. Name resolution (getaddrinfo) cannot be bounded that way; use an IP literal where that matters.
public enum BlockingHTTPClient {
    /// Sends `request` and reads the response by its framing. With `tls`, the exchange runs over TLS verified
    /// against the context's CAs and `request.host`. A body over `maxBodyBytes` is `.tooLarge`.
    public static func send(
        _ request: BlockingHTTPRequest, timeoutMs: Int, tls: TLSClientContext? = nil, maxBodyBytes: Int = 1 << 20
    ) throws(BlockingHTTPError) -> BlockingHTTPResponse {
        let socket = try DeadlineSocket.connect(host: request.host, port: request.port, timeoutMs: timeoutMs)
        defer { socket.close() }
        var reader = ResponseReader(method: request.method, maxBodyBytes: maxBodyBytes)
        guard let tls else { return try exchange(request, over: socket, reader: &reader) }
        let channel = try DeadlineTLSChannel(socket, context: tls, serverName: request.host)
        try channel.handshake()
        return try exchange(request, over: channel, reader: &reader)
    }

    private static func exchange(
        _ request: BlockingHTTPRequest, over channel: some ByteChannel, reader: inout ResponseReader
    ) throws(BlockingHTTPError) -> BlockingHTTPResponse {
        try channel.send(request.serialized())
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = try chunk.withUnsafeMutableBytes { buffer in
                Result { () throws(BlockingHTTPError) in try channel.receive(into: buffer) }
            }.get()
            if n == 0 { return try reader.end() }
            let response = try chunk.withUnsafeBytes { bytes in
                Result { () throws(BlockingHTTPError) in
                    try reader.feed(UnsafeRawBufferPointer(rebasing: bytes[0..<n]))
                }
            }.get()
            if let response { return response }
        }
    }
}
