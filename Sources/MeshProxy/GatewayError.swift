import MeshHTTP1

/// The errors the gateway itself answers with (SPEC §4's table), mapped to status and code in one place.
public enum GatewayError: UInt8, Sendable {
    /// Malformed or ambiguous request (framing, bad path, bad chunk).
    case badRequest
    /// JWT missing or invalid on a required route.
    case unauthorized
    /// JWT valid, required claims missing.
    case forbidden
    /// No route of the listener matched.
    case noRoute
    /// The request head did not arrive within `header_timeout_ms`.
    case requestTimeout
    /// Body over `max_body_bytes`.
    case payloadTooLarge
    /// Request target over 8 KiB.
    case uriTooLong
    /// Head over `max_header_bytes` or too many fields.
    case headersTooLarge
    /// Connect failure, reset, or invalid response from upstream.
    case badGateway
    /// Every endpoint's breaker open, pool queue full, or draining.
    case unavailable
    /// `timeout_ms` or the last `per_try_timeout_ms` expired.
    case gatewayTimeout
    /// Over a `rate_limit` (SPEC §11): `retry-after` and the `ratelimit` fields say when to come back.
    case rateLimited
    /// A plaintext listener with `redirect_to_https` (SPEC §9): 308 with a `location` header.
    case httpsRequired
    /// A gRPC call routed to an `http1` upstream (SPEC §10): gRPC needs HTTP/2 on both sides; nothing is sent.
    case grpcNeedsH2Upstream

    public var status: Int {
        switch self {
        case .badRequest: 400
        case .unauthorized: 401
        case .forbidden: 403
        case .noRoute: 404
        case .requestTimeout: 408
        case .payloadTooLarge: 413
        case .uriTooLong: 414
        case .headersTooLarge: 431
        case .badGateway, .grpcNeedsH2Upstream: 502
        case .unavailable: 503
        case .gatewayTimeout: 504
        case .httpsRequired: 308
        case .rateLimited: 429
        }
    }

    /// The `error` code of the JSON body, also the access log's `error` field.
    public var code: StaticString {
        switch self {
        case .badRequest: "bad_request"
        case .unauthorized: "unauthorized"
        case .forbidden: "forbidden"
        case .noRoute: "no_route"
        case .requestTimeout: "request_timeout"
        case .payloadTooLarge: "payload_too_large"
        case .uriTooLong: "uri_too_long"
        case .headersTooLarge: "headers_too_large"
        case .badGateway: "bad_gateway"
        case .unavailable: "unavailable"
        case .gatewayTimeout: "gateway_timeout"
        case .httpsRequired: "https_required"
        case .rateLimited: "rate_limited"
        case .grpcNeedsH2Upstream: "grpc_needs_h2_upstream"
        }
    }

    var reasonPhrase: StaticString {
        switch self {
        case .badRequest: "Bad Request"
        case .unauthorized: "Unauthorized"
        case .forbidden: "Forbidden"
        case .noRoute: "Not Found"
        case .requestTimeout: "Request Timeout"
        case .payloadTooLarge: "Content Too Large"
        case .uriTooLong: "URI Too Long"
        case .headersTooLarge: "Request Header Fields Too Large"
        case .badGateway, .grpcNeedsH2Upstream: "Bad Gateway"
        case .unavailable: "Service Unavailable"
        case .gatewayTimeout: "Gateway Timeout"
        case .httpsRequired: "Permanent Redirect"
        case .rateLimited: "Too Many Requests"
        }
    }

    /// The gateway error for a request the codec rejected.
    public init(_ parseError: HTTPParseError) {
        switch parseError.status {
        case 414: self = .uriTooLong
        case 431: self = .headersTooLarge
        default: self = .badRequest
        }
    }

    /// Writes the whole response (head and `{"error":…,"request_id":…}` body).
    ///
    /// - Parameters:
    ///   - requestID: echoed in the body and in `x-request-id`.
    ///   - persistence: `.close` adds `connection: close` (the caller closes after the write); an HTTP/1.0
    ///     keep-alive client is told `connection: keep-alive`, without which it would wait for a close.
    ///   - extraHeader: a complete `name: value` line without CRLF (e.g. `WWW-Authenticate`), or nil.
    ///   - body: false for a response to HEAD: the head (with the body's length) only.
    public func writeResponse(
        into writer: inout HeadWriter, requestID: String, persistence: ResponseHeadBuilder.Persistence,
        extraHeader: String? = nil, body: Bool = true
    ) {
        let bodyLength = 10 + code.utf8CodeUnitCount + 16 + requestID.utf8.count + 2
        writer.write("HTTP/1.1 ")
        writer.writeDecimal(status)
        writer.write(" ")
        writer.write(reasonPhrase)
        writer.write("\r\ncontent-type: application/json\r\ncontent-length: ")
        writer.writeDecimal(bodyLength)
        writer.write("\r\nx-request-id: ")
        writer.write(string: requestID)
        if let extraHeader {
            writer.write("\r\n")
            writer.write(string: extraHeader)
        }
        writer.write("\r\n")
        ResponseHeadBuilder.writePersistence(persistence, into: &writer)
        // A response to HEAD states the length but carries no body (RFC 9110 §9.3.2): a client reads none.
        guard body else { return }
        writer.write("{\"error\":\"")
        writer.write(code)
        writer.write("\",\"request_id\":\"")
        writer.write(string: requestID)
        writer.write("\"}")
    }
}
