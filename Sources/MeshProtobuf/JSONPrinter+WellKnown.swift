/// The special JSON forms of the well-known types (see `ProtoJSON` for the list).
extension JSONPrinter {
    mutating func wellKnown(_ m: ProtoMessage, path: String) throws(ProtobufError) {
        switch m.typeName {
        case WellKnown.timestamp:
            let (seconds, nanos) = secondsAndNanos(m)
            guard let text = TimeText.formatTimestamp(seconds: seconds, nanos: nanos) else {
                throw .invalidJSON(path: path, message: "Timestamp out of range: \(seconds)s \(nanos)ns")
            }
            writer.string(text)
        case WellKnown.duration:
            let (seconds, nanos) = secondsAndNanos(m)
            guard let text = TimeText.formatDuration(seconds: seconds, nanos: nanos) else {
                throw .invalidJSON(path: path, message: "Duration out of range: \(seconds)s \(nanos)ns")
            }
            writer.string(text)
        case WellKnown.structType:
            try structObject(m, path: path)
        case WellKnown.listValue:
            writer.beginArray()
            if case .repeated(let list) = m.fields[1] {
                for (i, item) in list.enumerated() { try valueMessage(item, path: jsonPath(path, index: i)) }
            }
            writer.endArray()
        case WellKnown.value:
            try jsonValue(m, path: path)
        case WellKnown.fieldMask:
            var parts: [String] = []
            if case .repeated(let paths) = m.fields[1] {
                for case .string(let p) in paths {
                    guard let camel = FieldMaskText.camel(p) else {
                        throw .invalidJSON(path: path, message: "FieldMask path \(p.debugDescription) has no JSON form")
                    }
                    parts.append(camel)
                }
            }
            // One empty path would print as "", which reads back as no paths at all.
            guard parts != [""] else { throw .invalidJSON(path: path, message: "FieldMask with one empty path") }
            writer.string(parts.joined(separator: ","))
        case WellKnown.any:
            try any(m, path: path)
        default:
            try wrapper(m, path: path)
        }
    }

    /// Any: 1 type_url, 2 value (the payload's bytes), printed as the payload's JSON with `@type` first.
    private mutating func any(_ m: ProtoMessage, path: String) throws(ProtobufError) {
        writer.beginObject()
        defer { writer.endObject() }
        guard !m.fields.isEmpty else { return }
        var url = ""
        var payload: [UInt8] = []
        if case .single(.string(let u)) = m.fields[1] { url = u }
        if case .single(.bytes(let b)) = m.fields[2] { payload = b }
        let d = try pool.anyType(url, path: path)
        let sub: ProtoMessage
        do {
            sub = try ProtoDecoder(pool: pool).decode(payload, as: d.fullName)
        } catch {
            throw .invalidJSON(path: path, message: "Any: payload is not a valid \(d.fullName): \(error)")
        }
        writer.key("@type")
        writer.string(url)
        if WellKnown.isSpecial(d.fullName) {
            writer.key("value")
            try message(sub, path: jsonPath(path, "value"))
        } else {
            try members(sub, d, path: path)
        }
    }

    /// Timestamp and Duration: 1 seconds (int64), 2 nanos (int32).
    private func secondsAndNanos(_ m: ProtoMessage) -> (Int64, Int32) {
        var seconds: Int64 = 0
        var nanos: Int32 = 0
        if case .single(.int64(let s)) = m.fields[1] { seconds = s }
        if case .single(.int32(let n)) = m.fields[2] { nanos = n }
        return (seconds, nanos)
    }

    /// A wrapper prints its field 1 (`value`), default included: `Int32Value{}` is `0`, not `{}`.
    private mutating func wrapper(_ m: ProtoMessage, path: String) throws(ProtobufError) {
        let d = try pool.require(m.typeName)
        guard let field = d.field(number: 1) else { throw .valueMismatch(field: path, expected: "a wrapper") }
        var v = ProtoValue.zero(of: field.type) ?? .bool(false)
        if case .single(let set) = m.fields[1] { v = set }
        try value(v, field, path: path)
    }

    /// Struct: 1 fields (map<string, Value>) → object.
    private mutating func structObject(_ m: ProtoMessage, path: String) throws(ProtobufError) {
        writer.beginObject()
        if case .map(let map) = m.fields[1] {
            for key in map.keys.sorted() {
                guard case .string(let name) = key else { continue }
                writer.key(name)
                try valueMessage(map[key]!, path: jsonPath(path, mapKey: name))
            }
        }
        writer.endObject()
    }

    private mutating func valueMessage(_ v: ProtoValue, path: String) throws(ProtobufError) {
        guard case .message(let m) = v else { throw .valueMismatch(field: path, expected: "a Value message") }
        try jsonValue(m, path: path)
    }

    /// Value: oneof kind { 1 null_value, 2 number_value, 3 string_value, 4 bool_value, 5 struct_value,
    /// 6 list_value }; no kind set prints `null`, as the reference implementations do.
    private mutating func jsonValue(_ m: ProtoMessage, path: String) throws(ProtobufError) {
        for number: Int32 in 1...6 {
            guard case .single(let v) = m.fields[number] else { continue }
            switch (number, v) {
            case (1, _): writer.null()
            case (2, .double(let d)):
                guard d.isFinite else { throw .invalidJSON(path: path, message: "Value cannot hold NaN or Infinity") }
                writer.raw(d.description)
            case (3, .string(let s)): writer.string(s)
            case (4, .bool(let b)): writer.bool(b)
            case (5, .message(let s)), (6, .message(let s)): try message(s, path: path)
            default: throw .valueMismatch(field: path, expected: "a Value kind")
            }
            return
        }
        writer.null()
    }
}
