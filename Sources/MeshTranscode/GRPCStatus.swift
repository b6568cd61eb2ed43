import MeshJSON

/// gRPC status codes (grpc/doc/statuscodes.md) and their HTTP mapping for transcoded calls.
public enum GRPCStatusCode: Int, Sendable, CaseIterable {
    case ok = 0, cancelled, unknown, invalidArgument, deadlineExceeded, notFound, alreadyExists
    case permissionDenied, resourceExhausted, failedPrecondition, aborted, outOfRange, unimplemented
    case `internal`, unavailable, dataLoss, unauthenticated

    /// The `grpc-status` trailer's value: a missing, non-numeric or unassigned code is UNKNOWN, as the gRPC
    /// clients treat it.
    public init(grpcStatus text: String?) {
        guard let text, let n = Int(text), let code = GRPCStatusCode(rawValue: n) else {
            self = .unknown
            return
        }
        self = code
    }

    /// The code's name in lower case (`not_found`), the `error` member of the JSON error body.
    public var name: String {
        switch self {
        case .ok: "ok"
        case .cancelled: "cancelled"
        case .unknown: "unknown"
        case .invalidArgument: "invalid_argument"
        case .deadlineExceeded: "deadline_exceeded"
        case .notFound: "not_found"
        case .alreadyExists: "already_exists"
        case .permissionDenied: "permission_denied"
        case .resourceExhausted: "resource_exhausted"
        case .failedPrecondition: "failed_precondition"
        case .aborted: "aborted"
        case .outOfRange: "out_of_range"
        case .unimplemented: "unimplemented"
        case .internal: "internal"
        case .unavailable: "unavailable"
        case .dataLoss: "data_loss"
        case .unauthenticated: "unauthenticated"
        }
    }

    /// gRPC-Gateway's `runtime.HTTPStatusFromCode` table. FAILED_PRECONDITION is 400, not 412: the gateway
    /// changed it because 412 is about HTTP conditional headers, which gRPC has nothing to do with.
    public var httpStatus: Int {
        switch self {
        case .ok: 200
        case .cancelled: 499
        case .unknown, .internal, .dataLoss: 500
        case .invalidArgument, .failedPrecondition, .outOfRange: 400
        case .deadlineExceeded: 504
        case .notFound: 404
        case .alreadyExists, .aborted: 409
        case .permissionDenied: 403
        case .unauthenticated: 401
        case .resourceExhausted: 429
        case .unimplemented: 501
        case .unavailable: 503
        }
    }
}

/// A failed call as the HTTP client sees it: status and JSON body.
public struct TranscodedError: Sendable, Equatable {
    public var code: GRPCStatusCode
    public var message: String

    public init(code: GRPCStatusCode, message: String) {
        self.code = code
        self.message = message
    }

    /// From the upstream's trailers. `grpc-message` is percent-encoded on the wire (PROTOCOL-HTTP2.md); it is
    /// decoded here, and kept as received when the encoding is broken (the spec says not to fail the call).
    public init(grpcStatus: String?, grpcMessage: String?) {
        code = GRPCStatusCode(grpcStatus: grpcStatus)
        let raw = grpcMessage ?? ""
        message = PercentDecoding.decode(Substring(raw)) ?? raw
    }

    public var httpStatus: Int { code.httpStatus }

    /// `{"code": 5, "message": "...", "error": "not_found"}`.
    public var body: [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("code")
        w.number(code.rawValue)
        w.key("message")
        w.string(message)
        w.key("error")
        w.string(code.name)
        w.endObject()
        return w.bytes
    }
}
