import MeshProtobuf

/// Why a REST call could not be transcoded. Client mistakes (`invalidBody`, `unknownQueryParameter`,
/// `invalidValue`) are INVALID_ARGUMENT → 400; a binding that does not fit its method is a configuration error
/// found when the `Transcoder` is built; an upstream reply that does not decode is INTERNAL → 500.
public enum TranscodeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The JSON body is not JSON, or does not fit the message; the `ProtobufError` names the JSON path
    /// (`items[2].name`) or the line and column of a syntax error.
    case invalidBody(ProtobufError)
    /// A query parameter that names no field of the request message.
    case unknownQueryParameter(String)
    /// A path variable or query parameter whose value does not convert to its field's type (or names a field
    /// a query string cannot fill, such as a message).
    case invalidValue(parameter: String, value: String, message: String)
    /// The binding does not fit the method (a variable or body naming a missing field, a streaming request).
    case invalidBinding(String)
    /// The upstream's reply is not well-formed gRPC for the method.
    case invalidResponse(String)

    public var description: String {
        switch self {
        case .invalidBody(let e): "request body: \(e)"
        case .unknownQueryParameter(let p): "unknown query parameter \(p.debugDescription)"
        case .invalidValue(let p, let v, let m): "parameter \(p) = \(v.debugDescription): \(m)"
        case .invalidBinding(let m): "invalid HTTP binding: \(m)"
        case .invalidResponse(let m): "invalid gRPC response: \(m)"
        }
    }

    /// What the HTTP client gets: a status and the JSON error body (`TranscodedError.body`).
    public var transcodedError: TranscodedError {
        switch self {
        case .invalidBody, .unknownQueryParameter, .invalidValue:
            TranscodedError(code: .invalidArgument, message: description)
        case .invalidBinding, .invalidResponse:
            TranscodedError(code: .internal, message: description)
        }
    }
}
