import MeshHTTP1

/// Writes the head sent upstream: the client's head with hop-by-hop fields removed (RFC 9110 §7.6.1), the
/// route's rewrites and header edits applied, and `X-Forwarded-*` set (SPEC §4).
///
/// Reads the client's head (never changes it) and writes the new one, like Go's `ProxyRequest{In, Out}`.
public enum RequestHeadBuilder {
    public struct Context {
        /// The client's address without port, for `X-Forwarded-For`.
        public var clientIP: [UInt8]
        /// `Host` to send when the client gave none (HTTP/1.0) and the route does not rewrite it.
        public var endpointAuthority: [UInt8]
        /// `x-meshgate-deadline-ms`: what is left of the route's `timeout_ms` (SPEC §3), nil to omit.
        public var deadlineMs: Int?
        /// The `traceparent` to send (55 bytes), empty to send none.
        public var traceparent: UnsafeRawBufferPointer
        /// The `tracestate` to send, empty to send none.
        public var tracestate: UnsafeRawBufferPointer
        /// The request id to send (the client's when sane, else generated), empty to send none.
        public var requestID: UnsafeRawBufferPointer
        /// Complete `name: value\r\n` lines to add (verified JWT claims), empty for none.
        public var extraLines: UnsafeRawBufferPointer
        /// The client connection is TLS: `x-forwarded-proto: https`.
        public var secure = false
        /// The verified client certificate's `x-forwarded-client-cert` value (SPEC §9), empty for none.
        public var clientCert = UnsafeRawBufferPointer(start: nil, count: 0)
        /// A gRPC call (SPEC §10): the client's `grpc-timeout` is replaced by one carrying `deadlineMs`.
        public var grpc = false

        public init(
            clientIP: [UInt8], endpointAuthority: [UInt8], deadlineMs: Int? = nil,
            traceparent: UnsafeRawBufferPointer = .init(start: nil, count: 0),
            tracestate: UnsafeRawBufferPointer = .init(start: nil, count: 0),
            requestID: UnsafeRawBufferPointer = .init(start: nil, count: 0),
            extraLines: UnsafeRawBufferPointer = .init(start: nil, count: 0)
        ) {
            self.extraLines = extraLines
            self.clientIP = clientIP
            self.endpointAuthority = endpointAuthority
            self.deadlineMs = deadlineMs
            self.traceparent = traceparent
            self.tracestate = tracestate
            self.requestID = requestID
        }
    }

    /// Writes the upstream head for `request` into `w`; the caller checks `w.overflowed` and sends nothing when
    /// it is set (SPEC §4: a head that cannot be written whole ends the exchange with an error).
    ///
    /// Framing and `host` are the gateway's own, written from the parsed request: the client's
    /// `Content-Length`, `Transfer-Encoding` and `Host` lines are never copied, so no client field, `Connection`
    /// token or spelling can change how the upstream delimits the body.
    ///
    /// - Parameter tunnel: the request is an allowed upgrade (`TrustBoundary.allowsTunnel`); any other
    ///   `Upgrade` is dropped with the other hop-by-hop fields.
    public static func write(
        _ request: RequestView, route: CompiledRoute, normalizedPath: UnsafeRawBufferPointer, context: Context,
        tunnel: Bool = false, into w: inout HeadWriter
    ) {
        w.write(request.method)
        w.write(" ")
        writePath(normalizedPath, route: route, into: &w)
        w.write(request.query)
        w.write(" HTTP/1.1\r\nhost: ")
        let authority = request.authority
        if let host = route.hostRewrite {
            host.withUnsafeBytes { w.write($0) }
        } else if !authority.isEmpty {
            w.write(authority)
        } else {
            context.endpointAuthority.withUnsafeBytes { w.write($0) }
        }
        w.write("\r\n")
        writeClientFields(request, route: route, dropGRPCTimeout: context.grpc, into: &w)
        writeForwarded(request: request, context: context, into: &w)
        switch request.head.framing {
        case .contentLength(let n):
            w.write("content-length: ")
            w.writeDecimal(n)
            w.write("\r\n")
        case .chunked:
            w.write("transfer-encoding: chunked\r\n")
        case .none, .untilClose:
            break
        }
        writeContext(context, into: &w)
        if tunnel, let upgrade = request.firstValue(of: .upgrade) {
            w.write("connection: upgrade\r\nupgrade: ")
            w.write(upgrade)
            w.write("\r\n")
        }
        for (name, value) in route.requestEdits.additions {
            name.withUnsafeBytes { n in value.withUnsafeBytes { v in w.field(n, v) } }
        }
        w.write("\r\n")
    }

    /// The client's end-to-end fields: everything but what the gateway writes itself, hop-by-hop fields, the
    /// route's removals, trusted names and their `_` spellings.
    static func writeClientFields(
        _ request: RequestView, route: CompiledRoute, dropGRPCTimeout: Bool = false, into w: inout HeadWriter
    ) {
        for i in 0..<request.head.headerCount {
            let field = request.headers[i]
            switch field.known {
            case .host, .contentLength, .connection, .keepAlive, .proxyConnection, .te, .trailer, .transferEncoding,
                .upgrade, .expect, .xForwardedFor, .xForwardedProto, .xForwardedHost, .forwarded, .traceparent,
                .tracestate, .xRequestID:
                continue
            default:
                break
            }
            let name = request.name(i)
            if request.head.connectionHasCustomTokens
                && HopByHop.isHopByHop(
                    field, in: request.buffer,
                    headers: UnsafeBufferPointer(rebasing: request.headers[0..<request.head.headerCount]),
                    connectionHasCustomTokens: true)
            {
                continue
            }
            if route.requestEdits.removes(name) || isStripped(name, route.strippedNames) { continue }
            if dropGRPCTimeout && Bytes.equalsIgnoringCase(name, grpcTimeoutName) { continue }
            if field.known == .other && TrustBoundary.isDisguised(name, trusted: route.strippedNames) { continue }
            w.field(name, request.value(i))
        }
    }

    /// `X-Forwarded-For` is appended to, not replaced: the client's values in order, its address last (SPEC §4).
    static func writeForwarded(request: RequestView, context: Context, into w: inout HeadWriter) {
        w.write("x-forwarded-for: ")
        for i in 0..<request.head.headerCount where request.headers[i].known == .xForwardedFor {
            w.write(request.value(i))
            w.write(", ")
        }
        context.clientIP.withUnsafeBytes { w.write($0) }
        w.write(context.secure ? "\r\nx-forwarded-proto: https\r\n" : "\r\nx-forwarded-proto: http\r\n")
        if !context.clientCert.isEmpty {
            w.write("x-forwarded-client-cert: ")
            w.write(context.clientCert)
            w.write("\r\n")
        }
        let authority = request.authority
        if !authority.isEmpty {
            w.write("x-forwarded-host: ")
            w.write(authority)
            w.write("\r\n")
        }
    }

    /// The gateway's own fields: deadline, trace context, request id.
    static func writeContext(_ context: Context, into w: inout HeadWriter) {
        if let deadline = context.deadlineMs {
            w.write("x-meshgate-deadline-ms: ")
            w.writeDecimal(max(0, deadline))
            w.write("\r\n")
            if context.grpc {
                w.write("grpc-timeout: ")
                GRPC.writeTimeout(deadline, into: &w)
                w.write("\r\n")
            }
        }
        if !context.traceparent.isEmpty {
            w.write("traceparent: ")
            w.write(context.traceparent)
            w.write("\r\n")
        }
        if !context.tracestate.isEmpty {
            w.write("tracestate: ")
            w.write(context.tracestate)
            w.write("\r\n")
        }
        if !context.requestID.isEmpty {
            w.write("x-request-id: ")
            w.write(context.requestID)
            w.write("\r\n")
        }
        w.write(context.extraLines)
    }

    /// `strip_prefix` (segment-aware), then `add_prefix`; an emptied path becomes `/`.
    static func writePath(_ path: UnsafeRawBufferPointer, route: CompiledRoute, into w: inout HeadWriter) {
        var rest = path
        if let strip = route.stripPrefix, Bytes.hasPrefix(path, strip),
            path.count == strip.count || path[strip.count] == UInt8(ascii: "/")
        {
            rest = UnsafeRawBufferPointer(rebasing: path[strip.count...])
        }
        if let add = route.addPrefix { add.withUnsafeBytes { w.write($0) } }
        if rest.isEmpty {
            if route.addPrefix == nil { w.write("/") }
        } else {
            w.write(rest)
        }
    }

    static let grpcTimeoutName = Array("grpc-timeout".utf8)

    static func isStripped(_ name: UnsafeRawBufferPointer, _ names: [[UInt8]]) -> Bool {
        for candidate in names where Bytes.equalsIgnoringCase(name, candidate) { return true }
        return false
    }
}
