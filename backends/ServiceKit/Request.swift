import MeshJSON

/// One complete request as a handler sees it: method, path, query, headers, whole body, path parameters.
///
/// Built by the connection once the body is complete (bodies are bounded, see `ServerLimits`). Header names are
/// lowercased; values are as received (OWS trimmed).
public struct Request: Sendable {
    /// The method token, e.g. `GET`.
    public var method: String
    /// The path, without the query, as sent (percent-encoding kept).
    public var path: String
    /// Query parameters in order, percent-decoded (`+` is a space, as in HTML forms).
    public var query: [(name: String, value: String)]
    /// Header fields in order, names lowercased.
    public var headers: [(name: String, value: String)]
    /// The de-framed body (chunked decoded), possibly empty.
    public var body: [UInt8]
    /// Path parameters filled by the router (`/profiles/{user}` → `["user": "alice"]`), percent-decoded.
    public var parameters: [String: String] = [:]

    /// Creates a request (the server builds these; tests may too).
    public init(
        method: String,
        path: String,
        query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name` (give it lowercase), or nil.
    public func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    /// The first value of query parameter `name`, or nil.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    /// The path parameter `name`; a missing one is a router bug, answered 500 rather than trapping.
    public func parameter(_ name: String) throws(HTTPError) -> String {
        guard let value = parameters[name] else { throw .internalError("route has no parameter '\(name)'") }
        return value
    }

    /// The body parsed as a JSON object; 400 with the parser's position when it is not one.
    public func jsonObject() throws(HTTPError) -> JSONObject {
        guard !body.isEmpty else { throw .badRequest("request body must be a JSON object") }
        var options = JSONReader.Options()
        options.maxDepth = 32
        let node: JSONNode
        do {
            node = try JSONReader.parse(body, options: options)
        } catch {
            throw .badRequest("malformed JSON at \(error.position.line):\(error.position.column): \(error.message)")
        }
        guard let members = node.objectValue else {
            throw .badRequest("request body must be a JSON object, got \(node.value.typeName)")
        }
        return JSONObject(members: members)
    }

    /// Splits `a=1&b=x%20y` into decoded pairs; undecodable escapes are kept literally.
    static func parseQuery(_ raw: Substring) -> [(name: String, value: String)] {
        raw.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = PercentDecoding.decode(parts[0], plusIsSpace: true)
            let value = parts.count > 1 ? PercentDecoding.decode(parts[1], plusIsSpace: true) : ""
            return (name, value)
        }
    }
}

/// RFC 3986 §2.1 percent-decoding for query values and path parameters.
enum PercentDecoding {
    /// Decodes `%XX` escapes (and `+` when `plusIsSpace`); a bad escape or invalid UTF-8 result is kept as sent.
    static func decode(_ text: Substring, plusIsSpace: Bool) -> String {
        guard text.contains("%") || (plusIsSpace && text.contains("+")) else { return String(text) }
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "%"), i + 2 < bytes.count, let h = hex(bytes[i + 1]), let l = hex(bytes[i + 2]) {
                out.append(h << 4 | l)
                i += 3
                continue
            }
            out.append(plusIsSpace && b == UInt8(ascii: "+") ? UInt8(ascii: " ") : b)
            i += 1
        }
        return String(validating: out, as: UTF8.self) ?? String(text)
    }

    private static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
