import MeshJSON

/// A complete response a handler returns: status, extra header fields, body bytes.
///
/// `content-length`, `connection` and `date`-like framing fields are written by the server, never by handlers.
public struct Response: Sendable {
    /// The status code.
    public var status: Int
    /// Extra header fields (lowercase names by convention).
    public var headers: [(name: String, value: String)]
    /// The body; written whole with a Content-Length (never chunked).
    public var body: [UInt8]

    /// Creates a response.
    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response from already-serialized JSON bytes.
    public static func json(_ status: Int = 200, _ bytes: [UInt8]) -> Response {
        Response(status: status, headers: [("content-type", "application/json")], body: bytes)
    }

    /// A JSON response built with a `JSONWriter`.
    public static func json(_ status: Int = 200, _ build: (inout JSONWriter) -> Void) -> Response {
        var writer = JSONWriter()
        build(&writer)
        return json(status, writer.bytes)
    }

    /// `{"error":code,"detail":detail}` with the error's status.
    public static func error(_ error: HTTPError) -> Response {
        json(error.status) { writer in
            writer.beginObject()
            writer.key("error")
            writer.string(error.code)
            writer.key("detail")
            writer.string(error.detail)
            writer.endObject()
        }
    }

    /// Plain text (metrics exposition, health checks).
    public static func text(
        _ status: Int = 200,
        _ text: String,
        contentType: String = "text/plain; charset=utf-8"
    )
        -> Response
    {
        Response(status: status, headers: [("content-type", contentType)], body: Array(text.utf8))
    }

    /// The reason phrase written on the status line (RFC 9110 §15; clients must ignore it, RFC 9112 §4).
    static func reason(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Status"
        }
    }

    /// The wire form: status line, fields, Content-Length, optional `connection: close`, body (omitted for HEAD).
    func serialized(close: Bool, headRequest: Bool) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(Response.reason(status))\r\n"
        for field in headers { head += "\(field.name): \(field.value)\r\n" }
        // RFC 9110 §8.6: a 204 has no Content-Length; everything else declares its body size.
        if status != 204 { head += "content-length: \(body.count)\r\n" }
        if close { head += "connection: close\r\n" }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if !headRequest && status != 204 { bytes += body }
        return bytes
    }
}
