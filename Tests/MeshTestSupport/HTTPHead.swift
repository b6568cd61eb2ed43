/// A parsed HTTP/1.x head as the tests see it: the start line split in three, and the header fields in order.
/// Parsing is lenient on purpose (it only reads what the gateway wrote); assertions decide what is right.
public struct HTTPHead: Sendable, CustomStringConvertible {
    /// The exact bytes of the head, blank line included.
    public let raw: [UInt8]
    /// Start line parts: request `method target version`, or response `version status reason`.
    public let startLine: [String]
    /// Header fields in arrival order, names as sent.
    public let fields: [HTTPField]

    /// Parses `raw` (a head ending in CRLF CRLF).
    public init(raw: [UInt8]) {
        self.raw = raw
        let lines = String(decoding: raw, as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: true)
        let first = lines.first.map(String.init) ?? ""
        var parts = first.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        while parts.count < 3 { parts.append("") }
        startLine = parts
        fields = lines.dropFirst().map { line in
            let colon = line.firstIndex(of: ":") ?? line.endIndex
            let value = colon < line.endIndex ? String(line[line.index(after: colon)...]).trimmingSpaces : ""
            return HTTPField(name: String(line[..<colon]), value: value)
        }
    }

    /// The first value of the header `name` (case-insensitive), or nil.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return fields.first { $0.name.lowercased() == lower }?.value
    }

    /// Every value of the header `name` (case-insensitive), in order.
    public func headers(_ name: String) -> [String] {
        let lower = name.lowercased()
        return fields.filter { $0.name.lowercased() == lower }.map(\.value)
    }

    /// Whether a header `name` is present.
    public func has(_ name: String) -> Bool { header(name) != nil }

    /// The head as text (what failure messages show).
    public var description: String { text }

    /// The head as text (for failure messages).
    public var text: String { String(decoding: raw, as: UTF8.self) }

    /// Whether the `Transfer-Encoding` ends in `chunked`.
    public var isChunked: Bool {
        headers("transfer-encoding").joined(separator: ",").lowercased().split(separator: ",").last?
            .description.trimmingSpaces == "chunked"
    }

    /// The `Content-Length` value, when there is exactly one parsable one.
    public var contentLength: Int? { headers("content-length").count == 1 ? Int(header("content-length")!) : nil }
}

/// One header field line.
public struct HTTPField: Sendable, Equatable {
    /// Field name as sent.
    public let name: String
    /// Field value without surrounding whitespace.
    public let value: String
}
