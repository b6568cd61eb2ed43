import MeshJSON

/// Message → JSON text for `ProtoJSON.print` (the mapping's output rules are listed there).
struct JSONPrinter {
    let pool: DescriptorPool
    let protoNames: Bool
    var writer = JSONWriter()

    init(pool: DescriptorPool, protoNames: Bool) {
        self.pool = pool
        self.protoNames = protoNames
    }

    /// Nesting bound for messages built by hand (decoded ones are already bounded by the decoder's limit, and
    /// `Any` re-decodes its payload, so without it a chain of `Any`s could recurse without end).
    static let maxDepth = 128
    var depth = 0

    mutating func message(_ m: ProtoMessage, path: String) throws(ProtobufError) {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else {
            throw .invalidJSON(path: path, message: "messages nested deeper than \(Self.maxDepth)")
        }
        if WellKnown.isSpecial(m.typeName) {
            try wellKnown(m, path: path)
            return
        }
        writer.beginObject()
        try members(m, try pool.require(m.typeName), path: path)
        writer.endObject()
    }

    /// The set fields of `m` as object members (the caller writes the braces; `Any` adds `@type` first).
    mutating func members(_ m: ProtoMessage, _ d: MessageDescriptor, path: String) throws(ProtobufError) {
        for field in d.fields.sorted(by: { $0.number < $1.number }) {
            guard let value = m.fields[field.number] else { continue }
            let name = protoNames ? field.name : field.jsonName
            let at = jsonPath(path, name)
            switch value {
            case .single(let v):
                if !field.hasPresence && v.isDefault { continue }
                writer.key(name)
                try self.value(v, field, path: at)
            case .repeated(let list):
                writer.key(name)
                writer.beginArray()
                for (i, v) in list.enumerated() { try self.value(v, field, path: jsonPath(at, index: i)) }
                writer.endArray()
            case .map(let map):
                writer.key(name)
                try self.map(map, field, path: at)
            }
        }
    }

    /// A map as an object: keys in protobuf's deterministic order, as their decimal / `true` / string text.
    private mutating func map(
        _ map: [ProtoMapKey: ProtoValue], _ field: FieldDescriptor, path: String
    ) throws(ProtobufError) {
        let entry = try pool.require(field.typeName)
        guard let valueField = entry.field(number: 2) else {
            throw .valueMismatch(field: path, expected: "a map entry type")
        }
        writer.beginObject()
        for key in map.keys.sorted() {
            let text: String
            switch key {
            case .int(let v): text = String(v)
            case .uint(let v): text = String(v)
            case .bool(let v): text = v ? "true" : "false"
            case .string(let v): text = v
            }
            writer.key(text)
            try value(map[key]!, valueField, path: jsonPath(path, mapKey: text))
        }
        writer.endObject()
    }

    /// One value of `field`'s type.
    mutating func value(_ v: ProtoValue, _ field: FieldDescriptor, path: String) throws(ProtobufError) {
        switch v {
        case .int32(let n): writer.raw(String(n))
        case .uint32(let n): writer.raw(String(n))
        // 64-bit integers are strings: JavaScript numbers lose precision above 2^53.
        case .int64(let n): writer.string(String(n))
        case .uint64(let n): writer.string(String(n))
        case .float(let f): floating(Double(f), text: f.description)
        case .double(let d): floating(d, text: d.description)
        case .bool(let b): writer.bool(b)
        case .string(let s): writer.string(s)
        case .bytes(let b): writer.string(Base64.encode(b))
        case .enumValue(let n):
            if field.typeName == WellKnown.nullValue {
                writer.null()
            } else if let name = pool.enumType(named: field.typeName)?.name(for: n) {
                writer.string(name)
            } else {
                writer.raw(String(n))
            }
        case .message(let m): try message(m, path: path)
        }
    }

    /// Finite values as the shortest text that reads back to the same float (Swift's `description` is that and
    /// JSON-compatible); NaN and infinities as the mapping's strings.
    private mutating func floating(_ d: Double, text: String) {
        if d.isNaN {
            writer.string("NaN")
        } else if d.isInfinite {
            writer.string(d < 0 ? "-Infinity" : "Infinity")
        } else {
            writer.raw(text)
        }
    }
}
