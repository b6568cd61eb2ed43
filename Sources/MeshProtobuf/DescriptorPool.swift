/// Every message, enum and service of one descriptor set, indexed by fully-qualified name, plus every method by
/// its gRPC path. Immutable once built; cross-references (field type names, method input/output types) are
/// checked at build time so decoding never meets a dangling name.
public struct DescriptorPool: Sendable {
    /// Messages by fully-qualified name with a leading dot (`.pkg.Outer.Inner`).
    public private(set) var messages: [String: MessageDescriptor] = [:]
    /// Enums by fully-qualified name with a leading dot.
    public private(set) var enums: [String: EnumDescriptor] = [:]
    /// Services by fully-qualified name with a leading dot.
    public private(set) var services: [String: ServiceDescriptor] = [:]
    /// Methods by gRPC path, `/pkg.Service/Method`.
    public private(set) var methods: [String: MethodDescriptor] = [:]

    /// Reads a serialized `FileDescriptorSet` (build it with `protoc --include_imports`, or references to
    /// imported files will not resolve).
    /// - Throws: wire errors for bytes that are not protobuf, `.malformedDescriptor` for a duplicate name, a
    ///   field type name or method type that is not in the set, or a bad field type/number.
    public init(descriptorSet bytes: [UInt8]) throws(ProtobufError) {
        let collected = try DescriptorSetReader.read(bytes)
        for e in collected.enums {
            guard enums.updateValue(e, forKey: e.fullName) == nil else {
                throw .malformedDescriptor("duplicate enum \(e.fullName)")
            }
        }
        for m in collected.messages {
            guard messages.updateValue(m, forKey: m.fullName) == nil, enums[m.fullName] == nil else {
                throw .malformedDescriptor("duplicate type \(m.fullName)")
            }
        }
        for (name, message) in messages { messages[name] = try link(message) }
        for s in collected.services {
            services[s.fullName] = s
            for m in s.methods {
                guard messages[m.inputType] != nil, messages[m.outputType] != nil else {
                    throw .malformedDescriptor("\(m.path): input or output type not in the set")
                }
                methods[m.path] = m
            }
        }
    }

    /// Checks a message's references and fills its indexes and map flags.
    private func link(_ message: MessageDescriptor) throws(ProtobufError) -> MessageDescriptor {
        var m = message
        for (i, field) in m.fields.enumerated() {
            let at = "\(m.fullName).\(field.name)"
            switch field.type {
            case .message, .group:
                guard let target = messages[field.typeName] else {
                    throw .malformedDescriptor("\(at): type \(field.typeName) is not in the set")
                }
                m.fields[i].isMap = target.isMapEntry && field.label == .repeated
                // `target` may not be linked yet: look at its field list, not its index.
                let numbers = Set(target.fields.map(\.number))
                if m.fields[i].isMap, !numbers.contains(1) || !numbers.contains(2) {
                    throw .malformedDescriptor("\(at): map entry \(target.fullName) lacks key or value")
                }
            case .enum:
                guard enums[field.typeName] != nil else {
                    throw .malformedDescriptor("\(at): enum \(field.typeName) is not in the set")
                }
            default: break
            }
            if let o = field.oneofIndex, o < 0 || o >= m.oneofs.count {
                throw .malformedDescriptor("\(at): oneof index \(o) out of range")
            }
            guard m.indexByNumber.updateValue(i, forKey: field.number) == nil else {
                throw .malformedDescriptor("\(at): duplicate field number \(field.number)")
            }
            m.indexByName[field.jsonName] = i
            m.indexByName[field.name] = i
        }
        return m
    }

    /// The message called `name`; a leading dot is optional (`.pkg.Msg` or `pkg.Msg`).
    public func message(named name: String) -> MessageDescriptor? {
        messages[name.hasPrefix(".") ? name : "." + name]
    }

    /// The enum called `name`; a leading dot is optional.
    public func enumType(named name: String) -> EnumDescriptor? {
        enums[name.hasPrefix(".") ? name : "." + name]
    }

    /// The method at gRPC path `/pkg.Service/Method`.
    public func method(path: String) -> MethodDescriptor? {
        methods[path]
    }

    /// The message called `name` or `.unknownType`.
    func require(_ name: String) throws(ProtobufError) -> MessageDescriptor {
        guard let m = messages[name] else { throw .unknownType(name) }
        return m
    }
}
