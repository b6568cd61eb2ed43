import MeshProtobuf
import Testing

/// Decoder semantics (last value wins, message merge, oneof clearing, map keys, packed/unpacked tolerance,
/// wrong wire type → unknown) checked against Python's runtime, and the decoder's malformed-input errors.
@Suite struct ProtoDecoderTests {
    /// Tag + payload helpers for hand-made inputs.
    static func field(_ number: Int32, varint: UInt64) -> [UInt8] {
        var w = WireWriter()
        w.writeTag(number, .varint)
        w.writeVarint(varint)
        return w.bytes
    }

    static func field(_ number: Int32, bytes: [UInt8]) -> [UInt8] {
        var w = WireWriter()
        w.writeTag(number, .lengthDelimited)
        w.writeLengthDelimited(bytes)
        return w.bytes
    }

    /// Inputs protobuf runtimes accept but never write: each must decode and re-encode exactly as Python does.
    static let oddInputs: [(String, [UInt8])] = [
        // f_int32 twice: the last wins.
        ("meshtest.v1.Scalars", field(5, varint: 1) + field(5, varint: 2)),
        // f_int32 explicitly zero, then f_string empty: implicit presence drops both.
        ("meshtest.v1.Scalars", field(5, varint: 0) + field(9, bytes: [])),
        // Nested.inner twice: merged (depth from the first, note from the second).
        ("meshtest.v1.Nested", field(2, bytes: field(1, varint: 1)) + field(2, bytes: field(3, bytes: [0x78]))),
        // oneof: name, then number clears name.
        ("meshtest.v1.Oneofs", field(1, bytes: [0x61]) + field(2, varint: 7)),
        // map<string,int32>: key "a" twice, the last value wins; an entry without key or value.
        (
            "meshtest.v1.Maps",
            field(1, bytes: field(1, bytes: [0x61]) + field(2, varint: 1))
                + field(1, bytes: field(1, bytes: [0x61]) + field(2, varint: 2)) + field(1, bytes: [])
        ),
        // r_int32 (packed in proto3) sent unpacked, unpacked_int32 sent packed: both read, both re-encoded
        // as the descriptor says.
        ("meshtest.v1.Repeated", field(5, varint: 1) + field(5, varint: 2) + field(20, bytes: [3, 4])),
        // f_int32 with wire type 2 is an unknown field, kept.
        ("meshtest.v1.Scalars", field(5, bytes: [1, 2]) + field(9, bytes: [0x7A])),
        // An enum number without a name (proto3 enums are open).
        ("meshtest.v1.Scalars", field(12, varint: 42)),
        // int32 written as a 5-byte varint: truncated to 32 bits, re-encoded sign-extended.
        ("meshtest.v1.Scalars", field(5, varint: 0xFFFF_FFFF)),
    ]

    @Test(arguments: 0..<oddInputs.count)
    func oddInputsMatchPython(index: Int) throws {
        let (type, bytes) = Self.oddInputs[index]
        let pool = try ProtoTools.pool()
        let ours = try ProtoEncoder(pool: pool).encode(try ProtoDecoder(pool: pool).decode(bytes, as: type))
        let python = try ProtoTools.pythonReserialize(type, bytes)
        #expect(try sameEncoding(ours, python, type: type, pool: pool), "case \(index): \(hex(ours)) vs \(hex(python))")
    }

    @Test func oneofAndMergeValues() throws {
        let pool = try ProtoTools.pool()
        let oneof = try ProtoDecoder(pool: pool).decode(Self.oddInputs[3].1, as: "meshtest.v1.Oneofs")
        #expect(oneof.fields == [2: .single(.int32(7))])
        let nested = try ProtoDecoder(pool: pool).decode(Self.oddInputs[2].1, as: "meshtest.v1.Nested")
        guard case .single(.message(let inner)) = nested[2] else {
            Issue.record("inner not decoded")
            return
        }
        #expect(inner[1] == .single(.int32(1)) && inner[3] == .single(.string("x")))
    }

    // MARK: - Malformed input

    /// A chain of `Node.child` messages `depth` deep.
    static func chain(_ depth: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        for _ in 0..<depth { bytes = field(1, bytes: bytes) }
        return bytes
    }

    @Test func depthLimit() throws {
        let decoder = ProtoDecoder(pool: try ProtoTools.pool())
        _ = try decoder.decode(Self.chain(64), as: "meshtest.v1.Node")
        #expect {
            try decoder.decode(Self.chain(65), as: "meshtest.v1.Node")
        } throws: { error in
            if case .depthLimitExceeded(_, 64) = error as? ProtobufError { return true }
            return false
        }
        // Unknown groups count against the same limit.
        let groups = [UInt8](repeating: 0x1B, count: 200)
        #expect(throws: ProtobufError.self) { try decoder.decode(groups, as: "meshtest.v1.Node") }
    }

    @Test func invalidUTF8InString() throws {
        let decoder = ProtoDecoder(pool: try ProtoTools.pool())
        #expect(throws: ProtobufError.invalidUTF8(field: "f_string")) {
            try decoder.decode(Self.field(9, bytes: [0x61, 0xC3]), as: "meshtest.v1.Scalars")
        }
        // bytes fields take anything.
        _ = try decoder.decode(Self.field(10, bytes: [0xC3]), as: "meshtest.v1.Scalars")
    }

    @Test func malformedPacked() throws {
        let decoder = ProtoDecoder(pool: try ProtoTools.pool())
        #expect(throws: ProtobufError.malformedPacked(field: ".meshtest.v1.Repeated.r_fixed32")) {
            try decoder.decode(Self.field(7, bytes: [1, 2, 3]), as: "meshtest.v1.Repeated")
        }
        #expect(throws: ProtobufError.malformedPacked(field: ".meshtest.v1.Repeated.r_int32")) {
            try decoder.decode(Self.field(5, bytes: [1, 0x80]), as: "meshtest.v1.Repeated")
        }
    }

    @Test func errorsAtTheMessageLevel() throws {
        let decoder = ProtoDecoder(pool: try ProtoTools.pool())
        let cases: [([UInt8], ProtobufError)] = [
            ([0x08], .truncated(offset: 1)),
            ([0x12, 0x05, 0x61], .lengthOutOfBounds(offset: 1, length: 5)),
            ([0x0E, 0x00], .invalidWireType(offset: 0, wireType: 6)),
            ([0x0F, 0x00], .invalidWireType(offset: 0, wireType: 7)),
            ([0x0C], .unmatchedEndGroup(offset: 1)),
            ([0x08] + [UInt8](repeating: 0x80, count: 10) + [0x00], .varintTooLong(offset: 1)),
            ([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], .varintTooLong(offset: 0)),
        ]
        for (bytes, error) in cases {
            #expect(throws: error) { try decoder.decode(bytes, as: "meshtest.v1.Nested") }
        }
        #expect(throws: ProtobufError.unknownType(".nope.Missing")) { try decoder.decode([], as: "nope.Missing") }
    }

    /// Every prefix and every single-byte corruption of a rich message decodes or throws; none traps, and
    /// whatever decodes re-encodes to bytes that decode to the same value.
    @Test func prefixesAndCorruptionsNeverTrap() throws {
        let pool = try ProtoTools.pool()
        let decoder = ProtoDecoder(pool: pool)
        let encoder = ProtoEncoder(pool: pool)
        let bytes = try ProtoTools.encode("meshtest.v1.Everything", ProtocConformanceTests.cases[10].text)
        var inputs: [[UInt8]] = (0...bytes.count).map { Array(bytes[..<$0]) }
        for i in bytes.indices {
            for flip: UInt8 in [0x01, 0x80, 0xFF] {
                var copy = bytes
                copy[i] ^= flip
                inputs.append(copy)
            }
        }
        var decoded = 0
        for input in inputs {
            guard let m = try? decoder.decode(input, as: "meshtest.v1.Everything") else { continue }
            decoded += 1
            let again = try decoder.decode(try encoder.encode(m), as: "meshtest.v1.Everything")
            #expect(again == m, "round trip changed \(hex(input))")
        }
        #expect(decoded > 10)
    }
}
