import MeshHTTP1
import MeshJSON
import MeshMetrics

/// One admin response before serialization.
struct AdminResponse: Sendable {
    var status: Int
    var contentType: String
    var body: [UInt8]
    /// Extra header lines, e.g. `("Allow", "GET, HEAD")`.
    var headers: [(String, String)] = []
}

/// Maps an admin request (method, path without query) to a response (SPEC §6). Pure apart from the hooks.
enum AdminRouter {
    static let json = "application/json"

    /// Answers one request. HEAD is accepted wherever GET is (the connection drops the body).
    static func respond(method: HTTPMethod, path: String, hooks: AdminHooks) -> AdminResponse {
        let isGet = method == .get || method == .head
        switch path {
        case "/metrics":
            guard isGet else { return notAllowed("GET, HEAD") }
            return AdminResponse(
                status: 200, contentType: MetricsRegistry.contentType, body: Array(hooks.metrics().utf8))
        case "/healthz":
            guard isGet else { return notAllowed("GET, HEAD") }
            return jsonResponse(200, #"{"status":"ok"}"#)
        case "/readyz":
            guard isGet else { return notAllowed("GET, HEAD") }
            return hooks.ready() ? jsonResponse(200, #"{"ready":true}"#) : jsonResponse(503, #"{"ready":false}"#)
        case "/config":
            guard isGet else { return notAllowed("GET, HEAD") }
            return jsonResponse(200, hooks.config())
        case "/upstreams":
            guard isGet else { return notAllowed("GET, HEAD") }
            return jsonResponse(200, hooks.upstreams())
        case "/reload":
            guard method == .post else { return notAllowed("POST") }
            return reload(hooks)
        case "/", "/index.html":
            guard isGet else { return notAllowed("GET, HEAD") }
            return AdminResponse(
                status: 200, contentType: "text/html; charset=utf-8", body: Array(DashboardPage.html.utf8))
        default:
            return jsonResponse(404, #"{"error":"not_found"}"#)
        }
    }

    static func reload(_ hooks: AdminHooks) -> AdminResponse {
        let result = hooks.reload()
        var w = JSONWriter()
        w.beginObject()
        w.key("ok")
        w.bool(result.ok)
        if !result.ok {
            w.key("errors")
            w.beginArray()
            for error in result.errors { w.string(error) }
            w.endArray()
        }
        w.endObject()
        return AdminResponse(status: result.ok ? 200 : 400, contentType: json, body: w.bytes)
    }

    /// The JSON error answer for a malformed or oversized request (status from `HTTPParseError.status`).
    static func error(_ status: Int, _ code: String) -> AdminResponse {
        jsonResponse(status, "{\"error\":\(JSONWriter.escaped(code))}")
    }

    static func notAllowed(_ allow: String) -> AdminResponse {
        var response = jsonResponse(405, #"{"error":"method_not_allowed"}"#)
        response.headers.append(("Allow", allow))
        return response
    }

    static func jsonResponse(_ status: Int, _ body: String) -> AdminResponse {
        AdminResponse(status: status, contentType: json, body: Array(body.utf8))
    }

    /// Reason phrases for the statuses the admin listener uses (RFC 9110 §15).
    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 431: "Request Header Fields Too Large"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }

    /// The full response bytes: status line, headers, and the body unless `headOnly`.
    static func serialize(_ r: AdminResponse, keepAlive: Bool, headOnly: Bool) -> [UInt8] {
        // Lower-case names, like the proxy's own responses (and HTTP/2's only spelling).
        var head = "HTTP/1.1 \(r.status) \(reason(r.status))\r\n"
        head += "content-type: \(r.contentType)\r\ncontent-length: \(r.body.count)\r\ncache-control: no-store\r\n"
        for (name, value) in r.headers { head += "\(name.lowercased()): \(value)\r\n" }
        if !keepAlive { head += "connection: close\r\n" }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if !headOnly { bytes += r.body }
        return bytes
    }
}
