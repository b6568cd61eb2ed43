/// A complete response received by `HTTPClient`: status, header fields in order, and the de-chunked body.
public struct HTTPClientResponse: Sendable {
    /// The final (non-1xx) status code.
    public let status: Int
    /// Header fields in the order received, names as sent.
    public let headers: [(name: String, value: String)]
    /// The body bytes (chunked framing removed).
    public let body: [UInt8]

    /// Creates a response (used by the client; public for tests of callers).
    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name` (case-insensitive), nil when absent.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }

    /// True for 2xx.
    public var isSuccess: Bool { (200..<300).contains(status) }
}
