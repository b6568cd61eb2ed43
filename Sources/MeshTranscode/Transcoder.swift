import MeshJSON
import MeshProtobuf

/// REST ↔ gRPC for one method (what gRPC-Gateway and Envoy's `grpc_json_transcoder` do), sans-IO: bytes in,
/// bytes out; the caller moves them.
///
/// Request message, built in gRPC-Gateway's order (its generated `request_X_0` handlers):
/// 1. the JSON body (`body: "*"` → the whole message, `body: "field"` → that field; an empty body is an
///    empty message);
/// 2. path variables, which **override** whatever the body set at the same field;
/// 3. query parameters (only when `body` is not `"*"`: with `"*"` the gateway never reads the query string).
///    A parameter naming a field already bound by the path or the body is **ignored** (gRPC-Gateway's
///    filter); otherwise singular fields are overwritten and repeated fields **appended to**, in query order
///    (`?ids=1&ids=2`). Names are dotted field paths (`a.b=1`), each step the proto or the JSON name. A name
///    that resolves to no field is an error naming the parameter (gRPC-Gateway ignores them silently; a
///    typo'd filter that silently matches everything is worse than a 400).
///
/// Response: the gRPC message(s) printed by `ProtoJSON` (proto3 JSON mapping: JSON names, default values
/// omitted, as Python's `json_format.MessageToJson`; gRPC-Gateway's default marshaler would emit them);
/// `response_body` selects one field. A server-streaming method answers a **JSON array** of the messages
/// (gRPC-Gateway writes newline-delimited `{"result": ...}` objects instead).
public struct Transcoder: Sendable {
    public let pool: DescriptorPool
    public let method: MethodDescriptor
    public let bindings: [HTTPBinding]
    public let json: ProtoJSON
    /// The most dotted steps a query parameter name may take (`a.b.c` is 3).
    public static let maxFieldPathDepth = 32
    /// The largest gRPC response message accepted.
    public var maxMessageLength = GRPCFrameDecoder.defaultMaxMessageLength

    /// A transcoder for `method` with `bindings` (nil: the method's `google.api.http` rule and its
    /// additional bindings).
    /// - Throws: `.invalidBinding` for a client-streaming method, a method without bindings, a template
    ///   variable, body or response_body naming no field, or a template that does not parse.
    public init(
        pool: DescriptorPool, method: MethodDescriptor, bindings: [HTTPBinding]? = nil,
        jsonOptions: ProtoJSON.Options = .init()
    ) throws(TranscodeError) {
        guard !method.clientStreaming else { throw .invalidBinding("\(method.path): client streaming") }
        var list = bindings ?? []
        if bindings == nil, let rule = method.http { list = try HTTPBinding.all(from: rule) }
        guard !list.isEmpty else { throw .invalidBinding("\(method.path): no HTTP binding") }
        self.pool = pool
        self.method = method
        self.bindings = list
        self.json = ProtoJSON(pool: pool, options: jsonOptions)
        for b in list { try validate(b) }
    }

    private func validate(_ b: HTTPBinding) throws(TranscodeError) {
        let paths = FieldPaths(pool: pool)
        let at = "\(method.path) \(b.httpMethod) \(b.template)"
        for v in b.template.variables where paths.resolve(v.fieldPath, in: method.inputType) == nil {
            throw .invalidBinding("\(at): {\(v.fieldPath.joined(separator: "."))} is not a scalar field of the request")
        }
        if b.body != "" && b.body != "*" && pool.message(named: method.inputType)?.field(named: b.body) == nil {
            throw .invalidBinding("\(at): body \(b.body.debugDescription) is not a field of the request")
        }
        if b.responseBody != "" && pool.message(named: method.outputType)?.field(named: b.responseBody) == nil {
            throw .invalidBinding("\(at): response_body \(b.responseBody.debugDescription) is not a field")
        }
    }

    /// The request as gRPC-framed bytes (one length-prefixed message), ready for the upstream's DATA frames.
    public func request(_ matched: MatchedBinding, query: String, body: [UInt8]) throws(TranscodeError) -> [UInt8] {
        let message = try requestMessage(matched, query: query, body: body)
        do { return GRPCFrames.encode(try ProtoEncoder(pool: pool).encode(message)) } catch {
            throw .invalidBinding("\(method.path): request does not encode: \(error)")
        }
    }

    /// The request message (body, then path, then query; see the type's documentation).
    public func requestMessage(
        _ matched: MatchedBinding, query: String, body: [UInt8]
    ) throws(TranscodeError) -> ProtoMessage {
        let b = matched.binding
        var message = try bodyMessage(b.body, body)
        let paths = FieldPaths(pool: pool)
        var bound: [[Int32]] = []
        for v in matched.variables {
            guard let fields = paths.resolve(v.fieldPath, in: method.inputType) else { continue }
            try paths.set(v.value, at: fields[...], in: &message, name: v.fieldPath.joined(separator: "."))
            bound.append(fields.map(\.number))
        }
        guard b.body != "*" else { return message }
        if b.body != "", let f = pool.message(named: method.inputType)?.field(named: b.body) {
            bound.append([f.number])
        }
        let parameters: [(name: String, value: String)]
        switch QueryString.parse(query) {
        case .success(let p): parameters = p
        case .failure(let e): throw e
        }
        for p in parameters {
            let names = p.name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            // A recursive message type accepts `a.a.a...` as deep as the URL is long, and the encoder recurses
            // once per level: bound it like the decoders bound nesting.
            guard names.count <= Self.maxFieldPathDepth else {
                throw .invalidValue(
                    parameter: String(p.name.prefix(64)) + "...", value: "",
                    message: "field path deeper than \(Self.maxFieldPathDepth)")
            }
            guard let fields = paths.resolve(names, in: method.inputType) else {
                guard paths.exists(names, in: method.inputType) else { throw .unknownQueryParameter(p.name) }
                throw .invalidValue(
                    parameter: p.name, value: p.value,
                    message: "a message, a map, or a field inside a repeated message cannot be set from the query")
            }
            let numbers = fields.map(\.number)
            if bound.contains(where: { numbers.starts(with: $0) || $0.starts(with: numbers) }) { continue }
            try paths.set(p.value, at: fields[...], in: &message, name: p.name)
        }
        return message
    }

    /// The message the JSON body describes.
    private func bodyMessage(_ selector: String, _ body: [UInt8]) throws(TranscodeError) -> ProtoMessage {
        let empty = ProtoMessage(typeName: method.inputType)
        guard selector != "", !body.isEmpty else { return empty }
        do {
            if selector == "*" { return try json.parse(body, as: method.inputType) }
            guard let field = pool.message(named: method.inputType)?.field(named: selector) else { return empty }
            if field.type == .message && field.label != .repeated {
                var m = empty
                m.fields[field.number] = .single(.message(try json.parse(body, as: field.typeName)))
                return m
            }
            // A scalar, repeated or map body: checked as JSON first (so syntax errors keep the client's line
            // and column), then parsed as the one member of the request object.
            try Self.checkSyntax(body)
            let wrapped = Array("{\(JSONWriter.escaped(field.name)):".utf8) + body + [UInt8(ascii: "}")]
            var m = empty
            m.fields[field.number] = try json.parse(wrapped, as: method.inputType).fields[field.number]
            return m
        } catch {
            throw .invalidBody(error)
        }
    }

    private static func checkSyntax(_ body: [UInt8]) throws(ProtobufError) {
        do { _ = try JSONReader.parse(body) } catch {
            throw .jsonSyntax(line: error.position.line, column: error.position.column, message: error.message)
        }
    }
}
