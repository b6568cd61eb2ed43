import MeshJSON
import MeshTestSupport

/// A reply read by `HTTPClient`: status, lowercased headers, body, and the body parsed as JSON when it is JSON.
struct HTTPReply {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    init(_ response: HTTPResponse) {
        status = response.status
        headers = response.head.fields.map { ($0.name.lowercased(), $0.value) }
        body = response.body
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }

    /// The body as JSON, or nil when it does not parse.
    var json: JSONNode? { try? JSONReader.parse(body) }

    /// The `error` member of a JSON error body.
    var errorCode: String? { json?["error"]?.stringValue }
}

/// The backends' requests, one per connection (`connection: close`), over MeshTestSupport's `RawClient` (every
/// read has a deadline, so a hung server fails the test instead of hanging it); `raw` sends exact bytes.
enum HTTPClient {
    static let timeoutMs = 10_000

    static func request(
        port: UInt16,
        _ method: String,
        _ path: String,
        headers: [(String, String)] = [],
        body: [UInt8]? = nil
    ) throws -> HTTPReply {
        var head = "\(method) \(path) HTTP/1.1\r\nhost: 127.0.0.1:\(port)\r\nconnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body { head += "content-length: \(body.count)\r\n" }
        head += "\r\n"
        return try raw(port: port, Array(head.utf8) + (body ?? []), expect: 1)[0]
    }

    /// JSON body convenience.
    static func json(
        port: UInt16,
        _ method: String,
        _ path: String,
        _ json: String,
        headers: [(String, String)] = []
    ) throws -> HTTPReply {
        try request(
            port: port,
            method,
            path,
            headers: [("content-type", "application/json")] + headers,
            body: Array(json.utf8)
        )
    }

    /// Sends `bytes` as they are on one connection and reads `expect` responses (interim 1xx skipped).
    static func raw(port: UInt16, _ bytes: [UInt8], expect: Int) throws -> [HTTPReply] {
        let client = try RawClient(port: port, timeoutMs: timeoutMs)
        // The server may answer and close before reading everything (413): what it said is still read.
        try? client.send(bytes)
        return try (0..<expect).map { _ in HTTPReply(try client.readResponse()) }
    }
}
