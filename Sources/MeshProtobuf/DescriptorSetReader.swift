/// Reads `google.protobuf.FileDescriptorSet` bytes (`protoc --descriptor_set_out=X --include_imports`) into
/// descriptors. Only what the codec and the JSON mapping need is read; everything else in descriptor.proto
/// (source info, most options, extensions, reserved ranges) is skipped.
enum DescriptorSetReader {
    /// What one pass over a set collects before the pool indexes it.
    struct Collected {
        var messages: [MessageDescriptor] = []
        var enums: [EnumDescriptor] = []
        var services: [ServiceDescriptor] = []
    }

    /// Nesting bound for `DescriptorProto.nested_type`; real files stay far below it.
    static let maxNesting = 64

    /// FileDescriptorSet: 1 file (repeated FileDescriptorProto).
    static func read(_ bytes: [UInt8]) throws(ProtobufError) -> Collected {
        var out = Collected()
        for field in try RawFields(WireReader(bytes)) where field.number == 1 {
            try readFile(try field.message(), into: &out)
        }
        return out
    }

    /// FileDescriptorProto: 2 package, 4 message_type, 5 enum_type, 6 service, 12 syntax.
    static func readFile(_ reader: WireReader, into out: inout Collected) throws(ProtobufError) {
        let fields = try RawFields(reader)
        var package = ""
        var proto3 = false
        for f in fields {
            if f.number == 2 { package = try f.string() }
            if f.number == 12 { proto3 = try f.string() == "proto3" }
        }
        let scope = package.isEmpty ? "" : "." + package
        for f in fields {
            switch f.number {
            case 4: try readMessage(try f.message(), scope: scope, proto3: proto3, depth: 0, into: &out)
            case 5: out.enums.append(try readEnum(try f.message(), scope: scope))
            case 6: out.services.append(try readService(try f.message(), scope: scope, package: package))
            default: break
            }
        }
    }

    /// DescriptorProto: 1 name, 2 field, 3 nested_type, 4 enum_type, 7 options (7 map_entry), 8 oneof_decl.
    static func readMessage(
        _ reader: WireReader, scope: String, proto3: Bool, depth: Int, into out: inout Collected
    ) throws(ProtobufError) {
        guard depth < maxNesting else { throw .malformedDescriptor("messages nested deeper than \(maxNesting)") }
        let fields = try RawFields(reader)
        var name = ""
        for f in fields where f.number == 1 { name = try f.string() }
        guard !name.isEmpty else { throw .malformedDescriptor("message without a name in \(scope)") }
        let fullName = scope + "." + name
        var message = MessageDescriptor(fullName: fullName, fields: [], oneofs: [], isMapEntry: false)
        for f in fields {
            switch f.number {
            case 2: message.fields.append(try readField(try f.message(), proto3: proto3, in: fullName))
            case 3: try readMessage(try f.message(), scope: fullName, proto3: proto3, depth: depth + 1, into: &out)
            case 4: out.enums.append(try readEnum(try f.message(), scope: fullName))
            case 7:
                for o in try RawFields(try f.message()) where o.number == 7 { message.isMapEntry = o.bool }
            case 8:
                var oneof = ""
                for o in try RawFields(try f.message()) where o.number == 1 { oneof = try o.string() }
                message.oneofs.append(oneof)
            default: break
            }
        }
        out.messages.append(message)
    }

    /// FieldDescriptorProto: 1 name, 3 number, 4 label, 5 type, 6 type_name, 8 options (2 packed),
    /// 9 oneof_index, 10 json_name, 17 proto3_optional.
    static func readField(_ reader: WireReader, proto3: Bool, in message: String) throws(ProtobufError)
        -> FieldDescriptor
    {
        var field = FieldDescriptor(
            number: 0, name: "", jsonName: "", type: .int32, label: .optional, typeName: "", oneofIndex: nil,
            proto3Optional: false, packedOption: nil, isProto3: proto3)
        var typeNumber: Int32 = 0
        for f in try RawFields(reader) {
            switch f.number {
            case 1: field.name = try f.string()
            case 3: field.number = f.int32
            case 4: field.label = FieldLabel(rawValue: f.int32) ?? .optional
            case 5: typeNumber = f.int32
            case 6: field.typeName = try f.string()
            case 8:
                for o in try RawFields(try f.message()) where o.number == 2 { field.packedOption = o.bool }
            case 9: field.oneofIndex = Int(f.int32)
            case 10: field.jsonName = try f.string()
            case 17: field.proto3Optional = f.bool
            default: break
            }
        }
        let at = "\(message).\(field.name)"
        guard let type = FieldType(rawValue: typeNumber) else {
            throw .malformedDescriptor("\(at): unknown field type \(typeNumber)")
        }
        field.type = type
        guard field.number >= 1 && field.number <= maxFieldNumber else {
            throw .malformedDescriptor("\(at): field number \(field.number) out of range")
        }
        if field.jsonName.isEmpty { field.jsonName = defaultJSONName(field.name) }
        return field
    }

    /// EnumDescriptorProto: 1 name, 2 value (EnumValueDescriptorProto: 1 name, 2 number).
    static func readEnum(_ reader: WireReader, scope: String) throws(ProtobufError) -> EnumDescriptor {
        var result = EnumDescriptor(fullName: "", values: [])
        for f in try RawFields(reader) {
            if f.number == 1 { result.fullName = scope + "." + (try f.string()) }
            if f.number == 2 {
                var name = ""
                var number: Int32 = 0
                for v in try RawFields(try f.message()) {
                    if v.number == 1 { name = try v.string() }
                    if v.number == 2 { number = v.int32 }
                }
                result.values.append((name, number))
            }
        }
        guard result.fullName != scope + "." else { throw .malformedDescriptor("enum without a name in \(scope)") }
        return result
    }

    /// ServiceDescriptorProto: 1 name, 2 method. MethodDescriptorProto: 1 name, 2 input_type, 3 output_type,
    /// 4 options (MethodOptions, where google.api.http hides as unknown field 72295728), 5 client_streaming,
    /// 6 server_streaming.
    static func readService(_ reader: WireReader, scope: String, package: String) throws(ProtobufError)
        -> ServiceDescriptor
    {
        let fields = try RawFields(reader)
        var name = ""
        for f in fields where f.number == 1 { name = try f.string() }
        let grpcService = package.isEmpty ? name : package + "." + name
        var service = ServiceDescriptor(fullName: scope + "." + name, methods: [])
        for f in fields where f.number == 2 {
            var m = MethodDescriptor(
                name: "", path: "", inputType: "", outputType: "", clientStreaming: false, serverStreaming: false)
            for p in try RawFields(try f.message()) {
                switch p.number {
                case 1: m.name = try p.string()
                case 2: m.inputType = try p.string()
                case 3: m.outputType = try p.string()
                case 4:
                    for o in try RawFields(try p.message()) where o.number == HttpRule.extensionNumber {
                        m.http = try HttpRule.parse(try o.message())
                    }
                case 5: m.clientStreaming = p.bool
                case 6: m.serverStreaming = p.bool
                default: break
                }
            }
            m.path = "/\(grpcService)/\(m.name)"
            service.methods.append(m)
        }
        return service
    }
}
