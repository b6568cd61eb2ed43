import MeshProtobuf
import Testing

/// Our decoder and encoder against bytes from `protoc --encode` (text format in, binary out) and text from
/// `protoc --decode`, and against Python's re-serialization for unknown fields.
@Suite struct ProtocConformanceTests {
    /// Text-format inputs covering every scalar type (extremes included), nesting, packed and unpacked
    /// repeated fields, maps (one entry each: protoc writes multi-entry maps in hash order), oneofs and enums.
    static let cases: [(type: String, text: String)] = [
        (
            "meshtest.v1.Scalars",
            """
            f_double: 1.5 f_float: -2.25 f_int64: -9223372036854775808 f_uint64: 18446744073709551615
            f_int32: -42 f_fixed64: 1234567890123 f_fixed32: 4294967295 f_bool: true
            f_string: "h\\303\\251llo \\"q\\"" f_bytes: "\\000\\001\\377" f_uint32: 300 f_enum: NEGATIVE
            f_sfixed32: -5 f_sfixed64: -6 f_sint32: -2147483648 f_sint64: 9223372036854775807
            opt_int32: 0 opt_string: "" big_number_field: 7 custom_json: "c"
            """
        ),
        ("meshtest.v1.Scalars", "f_double: -0 f_float: inf f_int32: 2147483647 f_sint64: -1 f_enum: 99"),
        ("meshtest.v1.Scalars", ""),
        (
            "meshtest.v1.Repeated",
            """
            r_double: [1.5, -2, 0] r_float: [0.5, -inf] r_int64: [1, -1, 9223372036854775807]
            r_uint64: [0, 18446744073709551615] r_int32: [1, -1, 300, 0] r_fixed64: [1, 2] r_fixed32: [3]
            r_bool: [true, false, true] r_string: ["a", "", "\\303\\251"] r_bytes: ["", "\\377"]
            r_uint32: [4294967295] r_enum: [RED, GREEN, NEGATIVE, 7] r_sfixed32: [-1] r_sfixed64: [-2]
            r_sint32: [-3, 3] r_sint64: [-4, 4] unpacked_int32: [1, -2, 3] unpacked_sint64: [-5, 5]
            unpacked_fixed32: [6, 7] unpacked_double: [8.5] r_nested: [{name: "n1"}, {}, {inner: {depth: 2}}]
            """
        ),
        (
            "meshtest.v1.Nested",
            """
            name: "outer" inner { depth: 1 child { depth: 2 child { depth: 3 note: "deep" } } }
            inners { depth: 10 } inners { } inners { note: "x" }
            """
        ),
        (
            "meshtest.v1.Maps",
            """
            str_int { key: "a" value: 1 } int64_str { key: -5 value: "neg" }
            bool_msg { key: true value { name: "t" inner { depth: 1 } } } u32_enum { key: 7 value: GREEN }
            sint64_bytes { key: -9 value: "\\001" } fixed32_double { key: 4 value: 0.25 }
            str_scalars { key: "s" value { f_int32: 1 f_string: "z" } } int32_uint64 { key: 0 value: 0 }
            """
        ),
        ("meshtest.v1.Oneofs", "nested { name: \"in oneof\" } other: 3"),
        ("meshtest.v1.Oneofs", "number: 0"),
        ("meshtest.v1.Oneofs", "color: COLOR_UNSPECIFIED"),
        ("meshtest.v1.Oneofs", "raw: \"\""),
        (
            "meshtest.v1.Everything",
            """
            scalars { f_string: "s" f_sint32: -1 } repeated { r_int32: [1, 2] unpacked_int32: [3] }
            nested { inner { depth: 4 } } maps { str_int { key: "k" value: 2 } } oneofs { name: "n" }
            """
        ),
    ]

    /// protoc's bytes decode, and re-encode to exactly the same bytes (both write fields in number order, packed
    /// per descriptor, defaults of implicit-presence fields omitted).
    @Test(arguments: 0..<cases.count)
    func decodeEncodeMatchesProtoc(index: Int) throws {
        let (type, text) = Self.cases[index]
        let pool = try ProtoTools.pool()
        let bytes = try ProtoTools.encode(type, text)
        let message = try ProtoDecoder(pool: pool).decode(bytes, as: type)
        #expect(message.unknownFields.isEmpty)
        let ours = try ProtoEncoder(pool: pool).encode(message)
        #expect(hex(ours) == hex(bytes), "\(type): \(text)")
        // And protoc reads our bytes back to the same text as its own.
        #expect(try ProtoTools.decode(type, ours) == ProtoTools.decode(type, bytes))
    }

    /// A message built by hand encodes to protoc's bytes: each scalar type's encoding (zigzag, sign extension of
    /// negative int32/enums to 10 bytes, fixed widths, packing) checked one field at a time.
    @Test func handBuiltMessageMatchesProtoc() throws {
        let pool = try ProtoTools.pool()
        var m = ProtoMessage(typeName: ".meshtest.v1.Scalars")
        m[1] = .single(.double(1.5))
        m[2] = .single(.float(-2.25))
        m[3] = .single(.int64(-1))
        m[5] = .single(.int32(-42))
        m[12] = .single(.enumValue(-3))
        m[15] = .single(.int32(-2))
        m[16] = .single(.int64(Int64.min))
        m[13] = .single(.int32(-5))
        m[9] = .single(.string("é"))
        m[17] = .single(.int32(0))  // explicit presence: written although zero
        m[11] = .single(.uint32(0))  // implicit presence: omitted
        let expected = try ProtoTools.encode(
            "meshtest.v1.Scalars",
            "f_double: 1.5 f_float: -2.25 f_int64: -1 f_int32: -42 f_enum: NEGATIVE f_sint32: -2 "
                + "f_sint64: -9223372036854775808 f_sfixed32: -5 f_string: \"\\303\\251\" opt_int32: 0")
        #expect(hex(try ProtoEncoder(pool: pool).encode(m)) == hex(expected))
    }

    @Test func decodedValuesAreTheTextFormatValues() throws {
        let pool = try ProtoTools.pool()
        let bytes = try ProtoTools.encode("meshtest.v1.Scalars", Self.cases[0].text)
        let m = try ProtoDecoder(pool: pool).decode(bytes, as: ".meshtest.v1.Scalars")
        #expect(m[3] == .single(.int64(.min)) && m[4] == .single(.uint64(.max)) && m[15] == .single(.int32(.min)))
        #expect(m[9] == .single(.string("héllo \"q\"")) && m[10] == .single(.bytes([0, 1, 255])))
        #expect(m[12] == .single(.enumValue(-3)) && m[17] == .single(.int32(0)) && m[18] == .single(.string("")))
        #expect(m[2000] == .single(.int32(7)))
    }

    /// Unknown fields: encoded as Wide, decoded as Small. Fields after the known ones come back byte-exact;
    /// interleaved ones move after the known fields, exactly as Python's runtime re-serializes them.
    @Test func unknownFieldsPreserved() throws {
        let pool = try ProtoTools.pool()
        let tail = try ProtoTools.encode(
            "meshtest.v1.Wide",
            """
            f_double: 2.5 f_int32: -1 extra_text: "kept" extra_fixed32: 9 extra_fixed64: 10
            extra_message { name: "m" inner { depth: 1 } }
            """)
        let small = try ProtoDecoder(pool: pool).decode(tail, as: "meshtest.v1.Small")
        #expect(small.fields.count == 2 && !small.unknownFields.isEmpty)
        #expect(hex(try ProtoEncoder(pool: pool).encode(small)) == hex(tail))

        let interleaved = try ProtoTools.encode(
            "meshtest.v1.Wide", "f_double: 1 extra_varint: 300 f_int32: 5 extra_text: \"t\"")
        let again = try ProtoEncoder(pool: pool).encode(
            try ProtoDecoder(pool: pool).decode(interleaved, as: "meshtest.v1.Small"))
        #expect(hex(again) == hex(try ProtoTools.pythonReserialize("meshtest.v1.Small", interleaved)))
    }

    /// proto2 groups (wire types 3/4) are kept as unknown bytes, also when the descriptor declares the group.
    @Test func groupsKeptAsUnknown() throws {
        let pool = try ProtoTools.pool()
        let bytes = try ProtoTools.encode("meshtest.legacy.WithGroup", "id: 1 Item { label: \"x\" count: 2 } after: 5")
        for type in ["meshtest.legacy.WithGroup", "meshtest.legacy.WithoutGroup"] {
            let m = try ProtoDecoder(pool: pool).decode(bytes, as: type)
            #expect(m[1] == .single(.int32(1)) && m[5] == .single(.int32(5)))
            let ours = try ProtoEncoder(pool: pool).encode(m)
            #expect(hex(ours) == hex(try ProtoTools.pythonReserialize("meshtest.legacy.WithoutGroup", bytes)))
            // protoc prints fields in number order whatever the wire order, so the texts agree.
            #expect(try ProtoTools.decode(type, ours) == ProtoTools.decode(type, bytes))
        }
    }
}
