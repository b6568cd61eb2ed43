// libFuzzer target for MeshProtobuf: a fixed descriptor set (built below with WireWriter, so the target needs no
// protoc) and arbitrary bytes → decode → encode → decode must give the same message, and encoding it again the
// same bytes; a decoded message printed as proto3 JSON parses back to the same message (unknown fields aside)
// and prints the same text. Never a crash: every malformed input ends in a ProtobufError.
//
// First input byte picks the mode: 0 the rest is a FileDescriptorSet (the reader must not trap, and what loads
// must decode the empty message of each of its types), 1-3 the rest is a message of type .fz.M, .fz.Leaf or
// .fzl.Legacy (proto2, with a group).

import MeshJSON
import MeshProtobuf

// MARK: - The fixed descriptor set

/// Bytes of descriptor.proto messages, built field by field.
struct Proto {
    var w = WireWriter()

    func with(_ body: (inout Proto) -> Void) -> Proto {
        var copy = self
        body(&copy)
        return copy
    }

    mutating func string(_ number: Int32, _ s: String) {
        w.writeTag(number, .lengthDelimited)
        w.writeLengthDelimited(Array(s.utf8))
    }

    mutating func int(_ number: Int32, _ v: Int64) {
        w.writeTag(number, .varint)
        w.writeVarint(UInt64(bitPattern: v))
    }

    mutating func message(_ number: Int32, _ m: Proto) {
        w.writeTag(number, .lengthDelimited)
        w.writeLengthDelimited(m.w.bytes)
    }
}

/// FieldDescriptorProto: 1 name, 3 number, 4 label, 5 type, 6 type_name, 8 options (2 packed), 9 oneof_index,
/// 17 proto3_optional.
func field(
    _ name: String, _ number: Int64, _ type: FieldType, repeated: Bool = false, typeName: String = "",
    packed: Bool? = nil, oneof: Int64? = nil, proto3Optional: Bool = false
) -> Proto {
    Proto().with { p in
        p.string(1, name)
        p.int(3, number)
        p.int(4, repeated ? 3 : 1)
        p.int(5, Int64(type.rawValue))
        if !typeName.isEmpty { p.string(6, typeName) }
        if let packed { p.message(8, Proto().with { $0.int(2, packed ? 1 : 0) }) }
        if let oneof { p.int(9, oneof) }
        if proto3Optional { p.int(17, 1) }
    }
}

/// A map entry type (`key` = 1, `value` = 2, MessageOptions.map_entry = true).
func mapEntry(_ name: String, key: FieldType, value: FieldType, valueType: String = "") -> Proto {
    Proto().with { p in
        p.string(1, name)
        p.message(2, field("key", 1, key))
        p.message(2, field("value", 2, value, typeName: valueType))
        p.message(7, Proto().with { $0.int(7, 1) })
    }
}

let scalarTypes: [FieldType] = [
    .double, .float, .int64, .uint64, .int32, .fixed64, .fixed32, .bool, .string, .bytes, .uint32, .enum,
    .sfixed32, .sfixed64, .sint32, .sint64,
]

/// fz.M: every scalar type singular (1-16) and repeated (21-36, packed where packable), an unpacked int32,
/// nested and recursive messages, two maps, a oneof and a proto3 optional.
func messageM() -> Proto {
    Proto().with { m in
        m.string(1, "M")
        for (i, type) in scalarTypes.enumerated() {
            let typeName = type == .enum ? ".fz.E" : ""
            m.message(2, field("s\(i)", Int64(i + 1), type, typeName: typeName))
            m.message(2, field("r\(i)", Int64(i + 21), type, repeated: true, typeName: typeName))
        }
        m.message(2, field("unpacked", 40, .int32, repeated: true, packed: false))
        m.message(2, field("child", 50, .message, typeName: ".fz.M"))
        m.message(2, field("children", 51, .message, repeated: true, typeName: ".fz.M"))
        m.message(2, field("leaf", 52, .message, typeName: ".fz.Leaf"))
        m.message(2, field("by_name", 60, .message, repeated: true, typeName: ".fz.M.ByNameEntry"))
        m.message(2, field("counts", 61, .message, repeated: true, typeName: ".fz.M.CountsEntry"))
        m.message(2, field("o_text", 70, .string, oneof: 0))
        m.message(2, field("o_leaf", 71, .message, typeName: ".fz.Leaf", oneof: 0))
        m.message(2, field("o_number", 72, .uint64, oneof: 0))
        m.message(2, field("maybe", 80, .int32, oneof: 1, proto3Optional: true))
        for (i, name) in wellKnownNames.enumerated() {
            m.message(2, field("wkt\(i)", Int64(90 + i), .message, typeName: ".google.protobuf." + name))
        }
        m.message(3, mapEntry("ByNameEntry", key: .string, value: .message, valueType: ".fz.M"))
        m.message(3, mapEntry("CountsEntry", key: .sint64, value: .enum, valueType: ".fz.E"))
        m.message(8, Proto().with { $0.string(1, "o") })
        m.message(8, Proto().with { $0.string(1, "_maybe") })
    }
}

/// The well-known types with a special JSON form, as M's fields 90...
let wellKnownNames = [
    "Timestamp", "Duration", "Int64Value", "UInt32Value", "FloatValue", "BytesValue", "Value", "Struct",
    "ListValue", "FieldMask",
]

/// google/protobuf's well-known types, reduced to what the JSON mapping reads (same names and numbers).
func wellKnownFile() -> Proto {
    func message(_ name: String, _ fields: [Proto], nested: [Proto] = [], oneofs: [String] = []) -> Proto {
        Proto().with { m in
            m.string(1, name)
            for f in fields { m.message(2, f) }
            for n in nested { m.message(3, n) }
            for o in oneofs { m.message(8, Proto().with { $0.string(1, o) }) }
        }
    }
    let g = ".google.protobuf."
    let seconds = [field("seconds", 1, .int64), field("nanos", 2, .int32)]
    return Proto().with { f in
        f.string(1, "wkt.proto"); f.string(2, "google.protobuf"); f.string(12, "proto3")
        f.message(4, message("Timestamp", seconds))
        f.message(4, message("Duration", seconds))
        f.message(4, message("Int64Value", [field("value", 1, .int64)]))
        f.message(4, message("UInt32Value", [field("value", 1, .uint32)]))
        f.message(4, message("FloatValue", [field("value", 1, .float)]))
        f.message(4, message("BytesValue", [field("value", 1, .bytes)]))
        f.message(4, message("FieldMask", [field("paths", 1, .string, repeated: true)]))
        f.message(4, message("ListValue", [field("values", 1, .message, repeated: true, typeName: g + "Value")]))
        f.message(
            4,
            message(
                "Struct", [field("fields", 1, .message, repeated: true, typeName: g + "Struct.FieldsEntry")],
                nested: [mapEntry("FieldsEntry", key: .string, value: .message, valueType: g + "Value")]))
        f.message(
            4,
            message(
                "Value",
                [
                    field("null_value", 1, .enum, typeName: g + "NullValue", oneof: 0),
                    field("number_value", 2, .double, oneof: 0), field("string_value", 3, .string, oneof: 0),
                    field("bool_value", 4, .bool, oneof: 0),
                    field("struct_value", 5, .message, typeName: g + "Struct", oneof: 0),
                    field("list_value", 6, .message, typeName: g + "ListValue", oneof: 0),
                ], oneofs: ["kind"]))
        f.message(
            5,
            Proto().with { e in
                e.string(1, "NullValue")
                e.message(
                    2,
                    Proto().with { v in
                        v.string(1, "NULL_VALUE"); v.int(2, 0)
                    })
            })
    }
}

let descriptorSet: [UInt8] = {
    let e = Proto().with { e in
        e.string(1, "E")
        for (name, number) in [("Z", 0), ("A", 1), ("N", -1)] {
            e.message(
                2,
                Proto().with { v in
                    v.string(1, name); v.int(2, Int64(number))
                })
        }
    }
    let leaf = Proto().with { l in
        l.string(1, "Leaf")
        l.message(2, field("text", 1, .string))
        l.message(2, field("value", 2, .double))
    }
    let file = Proto().with { f in
        f.string(1, "fz.proto"); f.string(2, "fz"); f.string(12, "proto3")
        f.message(4, messageM()); f.message(4, leaf); f.message(5, e)
    }
    let legacy = Proto().with { f in
        f.string(1, "fzl.proto"); f.string(2, "fzl")
        f.message(
            4,
            Proto().with { m in
                m.string(1, "Legacy")
                m.message(2, field("a", 1, .int32))
                m.message(2, field("b", 2, .sint32, repeated: true))
                m.message(2, field("g", 3, .group, typeName: ".fzl.Legacy.G"))
                m.message(2, field("s", 4, .string))
                m.message(
                    3,
                    Proto().with { g in
                        g.string(1, "G"); g.message(2, field("x", 5, .int32))
                    })
            })
    }
    return Proto().with { s in
        s.message(1, wellKnownFile()); s.message(1, file); s.message(1, legacy)
    }.w.bytes
}()

let pool: DescriptorPool = {
    do { return try DescriptorPool(descriptorSet: descriptorSet) } catch {
        fatalError("the fixed descriptor set does not load: \(error)")
    }
}()

let types = [".fz.M", ".fz.Leaf", ".fzl.Legacy"]

// MARK: - Checks

/// `m` as JSON can carry it: no unknown fields at any depth, every NaN the canonical one (JSON's "NaN" has
/// no payload bits), and a Value without a kind or with any NullValue number is `null` (they all print so).
func known(_ m: ProtoMessage) -> ProtoMessage {
    var out = m
    out.unknownFields = []
    if m.typeName == ".google.protobuf.Value" && (m.fields.isEmpty || m.fields[1] != nil) {
        out.fields = [1: .single(.enumValue(0))]
        return out
    }
    for (number, value) in m.fields {
        switch value {
        case .single(let v): out.fields[number] = .single(knownValue(v))
        case .repeated(let list): out.fields[number] = .repeated(list.map(knownValue))
        case .map(let map): out.fields[number] = .map(map.mapValues(knownValue))
        }
    }
    return out
}

func knownValue(_ v: ProtoValue) -> ProtoValue {
    switch v {
    case .message(let m): .message(known(m))
    case .float(let f) where f.isNaN: .float(.nan)
    case .double(let d) where d.isNaN: .double(.nan)
    default: v
    }
}

func checkMessage(_ bytes: [UInt8], type: String) {
    let decoder = ProtoDecoder(pool: pool)
    let encoder = ProtoEncoder(pool: pool)
    guard let first = try? decoder.decode(bytes, as: type) else { return }
    do {
        let encoded = try encoder.encode(first)
        let second = try decoder.decode(encoded, as: type)
        check(second == first, "decode → encode → decode changed the message: \(show(bytes))")
        check(try encoder.encode(second) == encoded, "encoding is not stable: \(show(bytes))")
    } catch {
        check(false, "a decoded message does not round-trip: \(error); input \(show(bytes))")
    }
    var options = ProtoJSON.Options()
    options.maxDepth = 256  // a map or array adds a JSON level per message level: 2 × the decoder's 64
    let json = ProtoJSON(pool: pool, options: options)
    let text: [UInt8]
    do {
        text = try json.print(first)
    } catch .invalidJSON {
        // What JSON cannot carry: a Timestamp/Duration out of range, NaN in a Value, a FieldMask path with no
        // JSON form.
        return
    } catch {
        check(false, "printing failed with \(error); input \(show(bytes))")
        return
    }
    do {
        let parsed = try json.parse(text, as: type)
        check(known(parsed) == known(first), "JSON round trip changed the message: \(show(text))")
        check(try json.print(parsed) == text, "JSON printing is not stable: \(show(text))")
    } catch {
        check(false, "JSON round trip failed: \(error); input \(show(bytes))")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    var control = ControlBytes(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : count))
    let mode = control.choice(4)
    let rest = Array(control.rest)
    if mode == 0 {
        guard let loaded = try? DescriptorPool(descriptorSet: rest) else { return 0 }
        for name in loaded.messages.keys {
            check((try? ProtoDecoder(pool: loaded).decode([], as: name)) != nil, "empty \(name) does not decode")
        }
    } else {
        checkMessage(rest, type: types[mode - 1])
    }
    return 0
}
