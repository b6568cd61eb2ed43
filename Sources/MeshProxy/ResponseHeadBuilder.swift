import MeshHTTP1

/// Writes the head sent to the client: the upstream's head with hop-by-hop fields removed, the route's
/// `response_headers` edits applied, and the connection's own framing and persistence stated.
///
/// The framing the client sees is the gateway's, never a copy (SPEC §4, like the request side): `content-length`
/// and `transfer-encoding` are written from the parsed `ResponseHead.framing`, and `connection` / `x-request-id`
/// by the gateway. Neither an upstream `Connection` token nor a route's `response_headers.set` can remove, add or
/// duplicate one of those fields, so what the client reads as the end of this response is where the gateway
/// ends it.
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

    /// Writes the whole client head into `w`. The caller must check `w.overflowed`: a head that did not fit
    /// is not a head, and nothing of it may be sent.
    ///
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
        writeFields(buffer: buffer, headers: headers, head: head, route: route, dechunk: dechunk, requestID: requestID, into: &w)
        if head.status == 101 {
            w.write("connection: upgrade\r\n\r\n")
            return
        }
        writePersistence(persistence, into: &w)
    }

    /// The head's fields without the status line and persistence: the upstream's forwarded fields (minus the
    /// route's removals), the gateway's framing, the request id and the route's additions. An HTTP/1 head and
    /// an HTTP/2 stream's field list are both made by this one function.
    public static func writeFields<Sink: ResponseFieldSink>(
        buffer: UnsafeRawBufferPointer, headers: UnsafeMutableBufferPointer<HTTPHeaderField>, head: ResponseHead,
        route: CompiledRoute?, dechunk: Bool, requestID: UnsafeRawBufferPointer, into sink: inout Sink
    ) {
        let all = UnsafeBufferPointer(rebasing: headers[0..<head.headerCount])
        for field in all {
            guard forwards(field, head: head, requestID: requestID, buffer: buffer, headers: all) else { continue }
            let name = field.name(in: buffer)
            if let route, route.responseEdits.removes(name) { continue }
            sink.field(name, field.value(in: buffer))
        }
        writeFraming(head, dechunk: dechunk, into: &sink)
        if !requestID.isEmpty { sink.field(UnsafeRawBufferPointer(staticString: "x-request-id"), requestID) }
        if let route { writeAdditions(route, into: &sink) }
    }

    /// The route's `response_headers.set` lines (the gateway's own fields excepted).
    public static func writeAdditions<Sink: ResponseFieldSink>(_ route: CompiledRoute, into sink: inout Sink) {
        for (name, value) in route.responseEdits.additions {
            name.withUnsafeBytes { n in
                // A `set` of a field the gateway writes itself would add a second framing or id field.
                guard !isGatewayField(KnownHeader.classify(n)) else { return }
                value.withUnsafeBytes { v in sink.field(n, v) }
            }
        }
    }

    /// Whether an upstream field line reaches the client.
    private static func forwards(
        _ field: HTTPHeaderField, head: ResponseHead, requestID: UnsafeRawBufferPointer,
        buffer: UnsafeRawBufferPointer, headers: UnsafeBufferPointer<HTTPHeaderField>
    ) -> Bool {
        switch field.known {
        case .contentLength, .transferEncoding:
            return false  // the gateway states the framing itself (writeFraming)
        case .connection, .keepAlive, .proxyConnection, .te, .trailer:
            return false  // hop-by-hop by definition (RFC 9110 §7.6.1)
        case .upgrade:
            return head.status == 101
        case .xRequestID:
            return requestID.isEmpty
        case .other:
            // The fallback marker is the gateway's word; an upstream's copy would fake it.
            if field.nameLength == 19 && asciiCaseInsensitiveEquals(field.name(in: buffer), "x-meshgate-fallback") {
                return false
            }
            // RFC 9110 §7.6.1: fields named by Connection are hop-by-hop. Only custom fields can be named away:
            // a token naming a field the gateway knows (framing, its own, date, server, ...) is ignored, so an
            // upstream cannot make the gateway drop a field the client needs to frame or trust the response.
            guard head.connectionHasCustomTokens else { return true }
            return !HopByHop.isHopByHop(field, in: buffer, headers: headers, connectionHasCustomTokens: true)
        default:
            return true
        }
    }

    /// `content-length` / `transfer-encoding` from the parsed framing (RFC 9112 §6.3), never copied.
    private static func writeFraming<Sink: ResponseFieldSink>(_ head: ResponseHead, dechunk: Bool, into sink: inout Sink) {
        switch head.framing {
        case .contentLength(let length):
            sink.contentLength(length)
        case .chunked:
            if !dechunk { sink.chunked() }
        case .none:
            // A HEAD or 304 response may state the representation's length (RFC 9110 §8.6); 1xx and 204 never.
            if head.contentLength >= 0 && head.status >= 200 && head.status != 204 { sink.contentLength(head.contentLength) }
        case .untilClose:
            break  // the connection closes after the body; `connection: close` says so
        }
    }

    /// Fields only the gateway writes on a response: framing, hop-by-hop fields and the request id.
    public static func isGatewayField(_ known: KnownHeader) -> Bool {
        switch known {
        case .contentLength, .transferEncoding, .connection, .keepAlive, .proxyConnection, .te, .trailer, .upgrade,
            .xRequestID:
            return true
        default:
            return false
        }
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

/// Where a client head's fields go: an HTTP/1 head, or an HTTP/2 stream's field list.
public protocol ResponseFieldSink {
    mutating func field(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer)
    /// The body's length, stated by the gateway.
    mutating func contentLength(_ length: Int)
    /// The body is chunked: HTTP/1 says so; HTTP/2 frames every body itself.
    mutating func chunked()
}

extension HeadWriter: ResponseFieldSink {
    @inline(__always)
    public mutating func field(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) {
        write(name)
        write(": ")
        write(value)
        write("\r\n")
    }

    public mutating func contentLength(_ length: Int) {
        write("content-length: ")
        writeDecimal(length)
        write("\r\n")
    }

    public mutating func chunked() { write("transfer-encoding: chunked\r\n") }
}

extension UnsafeRawBufferPointer {
    /// The bytes of a literal (static storage: valid for the whole run).
    @inline(__always)
    init(staticString: StaticString) {
        self.init(start: staticString.utf8Start, count: staticString.utf8CodeUnitCount)
    }
}
