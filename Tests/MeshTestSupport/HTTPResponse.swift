import Foundation

/// A response as a `RawClient` read it off the wire.
public struct HTTPResponse: Sendable, CustomStringConvertible {
    /// The head exactly as received, parsed.
    public let head: HTTPHead
    /// The first `RawClient.keptBodyBytes` body bytes (de-chunked).
    public let body: [UInt8]
    /// Every body byte counted.
    public let bodyCount: Int
    /// Whether the body equals `PatternBody` (meaningful for generated bodies).
    public let bodyMatchesPattern: Bool
    /// How the body was framed.
    public let framing: Framing

    /// Body framing of a response.
    public enum Framing: Sendable, Equatable {
        /// No body by rule (HEAD, 1xx, 204, 304).
        case none
        /// Content-Length.
        case length
        /// Transfer-Encoding: chunked.
        case chunked
        /// Read until the connection closed.
        case close
    }

    /// Status code (0 when the status line did not parse).
    public var status: Int { Int(head.startLine[1]) ?? 0 }
    /// HTTP version of the status line.
    public var version: String { head.startLine[0] }
    /// The first value of header `name`.
    public func header(_ name: String) -> String? { head.header(name) }
    /// Head and the first 500 body bytes, for failure messages.
    public var description: String { head.text + String(decoding: body.prefix(500), as: UTF8.self) }

    /// Body as text.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as a JSON object, or nil when it is not one.
    public var jsonObject: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }

    /// A string member of the JSON body (`error`, `request_id`), or nil.
    public func jsonString(_ key: String) -> String? { jsonObject?[key] as? String }
}
