import MeshHTTP1

/// Writes the head sent to the client: the upstream's head with hop-by-hop fields removed, the route's
/// `response_headers` edits applied, and the connection's own framing and persistence stated.
public enum ResponseHeadBuilder {
    /// How the client connection continues after this response.
    public enum Persistence: Sendable {
        /// HTTP/1.1 keep-alive: nothing to say.
        case keepAlive
        /// HTTP/1.0 client that asked for keep-alive: say so.
        case keepAliveHTTP10
        /// The connection closes after this response.
        case close
    }

    /// - Parameters:
    ///   - dechunk: the body is chunked upstream but sent to an HTTP/1.0 client as raw bytes until close.
    public static func write(
        buffer: UnsafeRawBufferPointer, headers: UnsafeMutableBufferPointer<HTTPHeaderField>, head: ResponseHead,
        route: CompiledRoute?, persistence: Persistence, dechunk: Bool, requestID: UnsafeRawBufferPointer,
        into w: inout HeadWriter
    ) {
        w.write("HTTP/1.1 ")
        w.writeDecimal(head.status)
        w.write(" ")
        w.write(
            UnsafeRawBufferPointer(rebasing: buffer[Int(head.reasonStart)..<Int(head.reasonStart + head.reasonLength)]))
        w.write("\r\n")
        let upgrading = head.status == 101
        for i in 0..<head.headerCount {
            let field = headers[i]
            switch field.known {
            case .connection, .keepAlive, .proxyConnection, .te, .trailer, .transferEncoding:
                continue
            case .upgrade where !upgrading:
                continue
            case .xRequestID where !requestID.isEmpty:
                continue
            default:
                break
            }
            let name = UnsafeRawBufferPointer(
                rebasing: buffer[Int(field.nameStart)..<Int(field.nameStart + field.nameLength)])
            if head.connectionHasCustomTokens
                && HopByHop.isHopByHop(
                    field, in: buffer, headers: UnsafeBufferPointer(rebasing: headers[0..<head.headerCount]),
                    connectionHasCustomTokens: true)
            {
                continue
            }
            if let route, route.responseEdits.removes(name) { continue }
            w.write(name)
            w.write(": ")
            w.write(
                UnsafeRawBufferPointer(
                    rebasing: buffer[Int(field.valueStart)..<Int(field.valueStart + field.valueLength)]))
            w.write("\r\n")
        }
        if head.framing == .chunked && !dechunk { w.write("transfer-encoding: chunked\r\n") }
        if !requestID.isEmpty {
            w.write("x-request-id: ")
            w.write(requestID)
            w.write("\r\n")
        }
        if let route {
            for (name, value) in route.responseEdits.additions {
                name.withUnsafeBytes { n in value.withUnsafeBytes { v in RequestHeadBuilder.writeField(n, v, into: &w) }
                }
            }
        }
        if upgrading {
            w.write("connection: upgrade\r\n\r\n")
            return
        }
        writePersistence(persistence, into: &w)
    }

    /// The `connection` field a persistence needs (none for HTTP/1.1 keep-alive) and the end of the head.
    public static func writePersistence(_ persistence: Persistence, into w: inout HeadWriter) {
        switch persistence {
        case .keepAlive: w.write("\r\n")
        case .keepAliveHTTP10: w.write("connection: keep-alive\r\n\r\n")
        case .close: w.write("connection: close\r\n\r\n")
        }
    }
}
