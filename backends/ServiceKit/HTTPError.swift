/// An error a handler throws to answer with a 4xx/5xx JSON body `{"error":"<code>","detail":"..."}`.
///
/// Every failure a backend can meet ends as one of these (SPEC §8: "bad input gets a 4xx with a JSON error,
/// never a crash"). `code` is a stable machine-readable word; `detail` is for humans and may name the field.
public struct HTTPError: Error, Sendable, Equatable {
    /// The response status (400...599).
    public var status: Int
    /// Stable error code, e.g. `bad_request`, `not_found`, `conflict`.
    public var code: String
    /// Human-readable explanation; never contains secrets.
    public var detail: String

    /// Creates an error answered with `status`.
    public init(status: Int, code: String, detail: String) {
        self.status = status
        self.code = code
        self.detail = detail
    }

    /// 400 `bad_request`: malformed JSON, wrong types, missing or invalid fields.
    public static func badRequest(_ detail: String) -> HTTPError {
        HTTPError(status: 400, code: "bad_request", detail: detail)
    }

    /// 401 `unauthorized`: no caller identity, or wrong credentials.
    public static func unauthorized(_ detail: String) -> HTTPError {
        HTTPError(status: 401, code: "unauthorized", detail: detail)
    }

    /// 403 `forbidden`: the caller is known but may not do this.
    public static func forbidden(_ detail: String) -> HTTPError {
        HTTPError(status: 403, code: "forbidden", detail: detail)
    }

    /// 404 `not_found`.
    public static func notFound(_ detail: String) -> HTTPError {
        HTTPError(status: 404, code: "not_found", detail: detail)
    }

    /// 409 `conflict`: the resource already exists.
    public static func conflict(_ detail: String) -> HTTPError {
        HTTPError(status: 409, code: "conflict", detail: detail)
    }

    /// 413 `payload_too_large`: the request body is over the server's limit.
    public static func payloadTooLarge(_ detail: String) -> HTTPError {
        HTTPError(status: 413, code: "payload_too_large", detail: detail)
    }

    /// 500 `internal`: a storage or programming failure; the detail is logged, not leaked.
    public static func internalError(_ detail: String) -> HTTPError {
        HTTPError(status: 500, code: "internal", detail: detail)
    }
}
