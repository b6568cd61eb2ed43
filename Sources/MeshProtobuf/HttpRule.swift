/// The `google.api.http` method option (googleapis `google/api/http.proto`, `HttpRule`): how a REST call maps
/// onto the method. Descriptor sets carry it as an unknown field (number 72295728) of `MethodOptions`, since the
/// extension is not part of descriptor.proto; `HttpRule.parse` reads it from those raw bytes.
public struct HttpRule: Sendable, Equatable {
    /// `get`, `put`, `post`, `delete`, `patch`, or the `custom` kind as written (`HEAD`, ...).
    public var method: String
    /// The path template (`/v1/{name=users/*}`).
    public var path: String
    /// Which request field the HTTP body fills: `*` for all fields not bound by the path, a field name, or empty
    /// for no body.
    public var body: String
    /// Which response field becomes the HTTP body; empty for the whole message.
    public var responseBody: String
    /// Further bindings for the same method (never nested further: the spec forbids it, and they are dropped).
    public var additionalBindings: [HttpRule]

    /// Creates a rule.
    public init(
        method: String, path: String, body: String = "", responseBody: String = "",
        additionalBindings: [HttpRule] = []
    ) {
        self.method = method
        self.path = path
        self.body = body
        self.responseBody = responseBody
        self.additionalBindings = additionalBindings
    }

    /// The extension's field number on `google.protobuf.MethodOptions`.
    public static let extensionNumber: Int32 = 72_295_728

    /// Parses `HttpRule` bytes (fields: 2 get, 3 put, 4 post, 5 delete, 6 patch, 8 custom {1 kind, 2 path},
    /// 7 body, 12 response_body, 11 additional_bindings). `depth` stops runaway nesting of additional bindings.
    static func parse(_ reader: WireReader, depth: Int = 0) throws(ProtobufError) -> HttpRule {
        var rule = HttpRule(method: "", path: "")
        for field in try RawFields(reader) {
            switch field.number {
            case 2, 3, 4, 5, 6:
                rule.method = ["GET", "PUT", "POST", "DELETE", "PATCH"][Int(field.number) - 2]
                rule.path = try field.string()
            case 8:
                for part in try RawFields(try field.message()) {
                    if part.number == 1 { rule.method = try part.string() }
                    if part.number == 2 { rule.path = try part.string() }
                }
            case 7: rule.body = try field.string()
            case 12: rule.responseBody = try field.string()
            case 11 where depth == 0:
                rule.additionalBindings.append(try parse(try field.message(), depth: 1))
            default: break
            }
        }
        return rule
    }
}
