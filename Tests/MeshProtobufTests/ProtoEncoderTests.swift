import MeshProtobuf
import Testing

/// Encoder contract for hand-built values: what does not fit the descriptor is an error, never a trap or silent
/// garbage; map entries come out in protobuf C++'s deterministic key order.
@Suite struct ProtoEncoderTests {
    @Test func valuesThatDoNotFitTheDescriptor() throws {
        let encoder = ProtoEncoder(pool: try ProtoTools.pool())
        var wrongScalar = ProtoMessage(typeName: ".meshtest.v1.Scalars")
        wrongScalar[5] = .single(.string("not an int"))
        #expect(throws: ProtobufError.valueMismatch(field: ".meshtest.v1.Scalars.f_int32", expected: "int32")) {
            try encoder.encode(wrongScalar)
        }
        var sintAsUnsigned = ProtoMessage(typeName: ".meshtest.v1.Scalars")
        sintAsUnsigned[15] = .single(.uint32(1))
        #expect(throws: ProtobufError.valueMismatch(field: ".meshtest.v1.Scalars.f_sint32", expected: "sint32")) {
            try encoder.encode(sintAsUnsigned)
        }
        var noSuchField = ProtoMessage(typeName: ".meshtest.v1.Scalars")
        noSuchField[999] = .single(.int32(1))
        #expect(throws: ProtobufError.self) { try encoder.encode(noSuchField) }
        var wrongMessage = ProtoMessage(typeName: ".meshtest.v1.Nested")
        wrongMessage[2] = .single(.message(ProtoMessage(typeName: ".meshtest.v1.Scalars")))
        #expect(throws: ProtobufError.self) { try encoder.encode(wrongMessage) }
        #expect(throws: ProtobufError.unknownType(".nope.Missing")) {
            try encoder.encode(ProtoMessage(typeName: ".nope.Missing"))
        }
    }

    /// Keys in numeric order (-1, 5, 10, not as text or as unsigned), strings by bytes ("" < "a" < "ab" < "b").
    @Test func mapEntriesInDeterministicOrder() throws {
        let pool = try ProtoTools.pool()
        var m = ProtoMessage(typeName: ".meshtest.v1.Maps")
        m[2] = .map([.int(10): .string("z"), .int(-1): .string("x"), .int(5): .string("y")])
        m[1] = .map([
            .string("b"): .int32(1), .string("ab"): .int32(2), .string(""): .int32(3), .string("a"): .int32(4),
        ])
        let text = try ProtoTools.decode("meshtest.v1.Maps", try ProtoEncoder(pool: pool).encode(m))
        // protoc --decode prints entries in wire order.
        let keys = text.split(separator: "\n").filter { $0.contains("key:") }.map { $0.split(separator: ":")[1] }
        #expect(keys.map { $0.trimmingPrefix(" ") } == [#""""#, #""a""#, #""ab""#, #""b""#, "-1", "5", "10"])
    }
}
