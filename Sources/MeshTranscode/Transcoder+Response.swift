import MeshJSON
import MeshProtobuf

extension Transcoder {
    /// The HTTP body for the upstream's gRPC DATA bytes, all of them: the caller buffers the reply until the
    /// trailers arrive and calls this only for grpc-status 0; other statuses go to `TranscodedError`. For a
    /// long server stream, `StreamingResponse` produces the same array piece by piece.
    ///
    /// Unary: exactly one message → its JSON. Server streaming: any number of messages → a JSON array of them.
    /// - Throws: `.invalidResponse` for broken framing, a message that does not decode as the output type, or
    ///   a unary reply without exactly one message.
    public func response(_ binding: HTTPBinding, grpcBody: [UInt8]) throws(TranscodeError) -> [UInt8] {
        var decoder = GRPCFrameDecoder(maxMessageLength: maxMessageLength)
        let messages: [[UInt8]]
        do {
            messages = try decoder.feed(grpcBody)
            try decoder.finish()
        } catch {
            throw .invalidResponse("\(method.path): \(error)")
        }
        guard method.serverStreaming else {
            guard messages.count == 1 else {
                throw .invalidResponse("\(method.path): unary reply with \(messages.count) messages")
            }
            return try responseJSON(binding, messages[0])
        }
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (i, m) in messages.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out += try responseJSON(binding, m)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// One response message (wire bytes, unframed) as JSON, narrowed to `response_body` when set.
    public func responseJSON(_ binding: HTTPBinding, _ wire: [UInt8]) throws(TranscodeError) -> [UInt8] {
        do {
            let message = try ProtoDecoder(pool: pool).decode(wire, as: method.outputType)
            guard binding.responseBody != "",
                let field = pool.message(named: method.outputType)?.field(named: binding.responseBody)
            else { return try json.print(message) }
            var only = ProtoMessage(typeName: message.typeName)
            only.fields[field.number] = message.fields[field.number]
            let printed = try json.print(only)
            let key = json.options.preserveProtoFieldNames ? field.name : field.jsonName
            guard let member = try? JSONReader.parse(printed)[key] else { return defaultJSON(field) }
            var w = JSONWriter()
            w.value(member.value)
            return w.bytes
        } catch {
            throw .invalidResponse("\(method.path): \(error)")
        }
    }

    /// An unset `response_body` field as JSON: its proto3 default, since an HTTP body cannot be absent.
    private func defaultJSON(_ field: FieldDescriptor) -> [UInt8] {
        let text: String
        if field.isMap || field.type == .message && field.label != .repeated {
            text = "{}"
        } else if field.label == .repeated {
            text = "[]"
        } else {
            switch field.type {
            case .bool: text = "false"
            case .string, .bytes: text = "\"\""
            case .int64, .uint64, .sint64, .fixed64, .sfixed64: text = "\"0\""
            case .enum:
                let name = pool.enumType(named: field.typeName)?.name(for: 0)
                text = name.map { JSONWriter.escaped($0) } ?? "0"
            default: text = "0"
            }
        }
        return Array(text.utf8)
    }
}
