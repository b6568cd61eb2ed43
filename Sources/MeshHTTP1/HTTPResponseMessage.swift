/// A complete response as a client hands it to its caller: the final status, header fields in order (names as
/// sent) and the body with its framing removed. One type for MeshControl's event-loop `HTTPClient`, the blocking
/// client (MeshBlockingHTTP) and ACME's order machine, which all want the same few things of an answer. Not for
/// the proxy path (it allocates Strings).
public struct HTTPResponseMessage: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

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
}

extension HTTPHeaderField {
    /// `fields`, parsed from `buffer`, as (name, value) strings in order: what a client's caller keeps of a head.
    public static func strings(
        _ fields: some Collection<HTTPHeaderField>, in buffer: UnsafeRawBufferPointer
    ) -> [(name: String, value: String)] {
        fields.map { field in
            (
                name: String(decoding: field.name(in: buffer), as: UTF8.self),
                value: String(decoding: field.value(in: buffer), as: UTF8.self)
            )
        }
    }
}
