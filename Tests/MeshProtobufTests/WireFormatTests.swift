import MeshProtobuf
import Testing

/// WireReader/WireWriter primitives against the encoding spec's own examples, and every malformed-input case
/// the reader must turn into an error instead of a trap.
@Suite struct WireFormatTests {
    static let varints: [(UInt64, [UInt8])] = [
        (0, [0x00]),
        (1, [0x01]),
        (127, [0x7F]),
        (150, [0x96, 0x01]),  // the encoding spec's example
        (300, [0xAC, 0x02]),
        (UInt64(Int32.max), [0xFF, 0xFF, 0xFF, 0xFF, 0x07]),
        (UInt64(bitPattern: -1), [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
        (UInt64.max >> 1, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),
    ]

    @Test(arguments: varints)
    func varintRoundTrip(value: UInt64, bytes: [UInt8]) throws {
        var w = WireWriter()
        w.writeVarint(value)
        #expect(w.bytes == bytes)
        var r = WireReader(bytes)
        #expect(try r.readVarint() == value)
        #expect(r.isAtEnd)
    }

    /// The spec's ZigZag table plus the extremes.
    @Test func zigzag() {
        let table32: [(Int32, UInt32)] = [
            (0, 0), (-1, 1), (1, 2), (-2, 3), (Int32.max, 0xFFFF_FFFE), (Int32.min, 0xFFFF_FFFF),
        ]
        for (n, z) in table32 {
            #expect(ZigZag.encode32(n) == z)
            #expect(ZigZag.decode32(z) == n)
        }
        let table64: [(Int64, UInt64)] = [
            (0, 0), (-1, 1), (1, 2), (Int64.max, UInt64.max - 1), (Int64.min, UInt64.max),
        ]
        for (n, z) in table64 {
            #expect(ZigZag.encode64(n) == z)
            #expect(ZigZag.decode64(z) == n)
        }
    }

    @Test func fixedWidthIsLittleEndian() throws {
        var w = WireWriter()
        w.writeFixed32(0x0403_0201)
        w.writeFixed64(0x0807_0605_0403_0201)
        #expect(w.bytes == [1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8])
        var r = WireReader(w.bytes)
        #expect(try r.readFixed32() == 0x0403_0201)
        #expect(try r.readFixed64() == 0x0807_0605_0403_0201)
    }

    @Test func tagsAndLengthDelimited() throws {
        var w = WireWriter()
        w.writeTag(2, .lengthDelimited)
        w.writeLengthDelimited(Array("testing".utf8))  // the spec's `12 07 74 65 73 74 69 6e 67`
        #expect(w.bytes == [0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6E, 0x67])
        var r = WireReader(w.bytes)
        let tag = try r.readTag()
        #expect(tag.number == 2 && tag.wireType == .lengthDelimited)
        let range = try r.readLengthDelimited()
        #expect(String(decoding: w.bytes[range], as: UTF8.self) == "testing")
    }

    // MARK: - Malformed input

    @Test func truncatedVarint() {
        var r = WireReader([0x96])
        #expect(throws: ProtobufError.truncated(offset: 1)) { try r.readVarint() }
    }

    @Test func varintOverTenBytes() {
        var r = WireReader([UInt8](repeating: 0xFF, count: 10) + [0x01])
        #expect(throws: ProtobufError.varintTooLong(offset: 0)) { try r.readVarint() }
        // Ten bytes, but the tenth carries bits above 2^64.
        var r2 = WireReader([UInt8](repeating: 0xFF, count: 9) + [0x02])
        #expect(throws: ProtobufError.varintTooLong(offset: 0)) { try r2.readVarint() }
    }

    @Test func lengthBeyondBuffer() {
        var r = WireReader([0x05, 0x61, 0x62])
        #expect(throws: ProtobufError.lengthOutOfBounds(offset: 0, length: 5)) { try r.readLengthDelimited() }
        // A length near 2^64 must not overflow the bound check.
        var r2 = WireReader([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        #expect(throws: ProtobufError.lengthOutOfBounds(offset: 0, length: UInt64.max)) {
            try r2.readLengthDelimited()
        }
    }

    @Test func truncatedFixed() {
        var r = WireReader([1, 2, 3])
        #expect(throws: ProtobufError.truncated(offset: 0)) { try r.readFixed32() }
        var r2 = WireReader([1, 2, 3, 4, 5, 6, 7])
        #expect(throws: ProtobufError.truncated(offset: 0)) { try r2.readFixed64() }
    }

    @Test(arguments: [UInt8(6), 7])
    func wireTypesSixAndSevenRejected(wireType: UInt8) {
        var r = WireReader([0x08 | wireType, 0x00])
        #expect(throws: ProtobufError.invalidWireType(offset: 0, wireType: wireType)) { try r.readTag() }
    }

    @Test func fieldNumberZeroAndTooLargeRejected() {
        var r = WireReader([0x00])
        #expect(throws: ProtobufError.invalidFieldNumber(offset: 0, number: 0)) { try r.readTag() }
        var w = WireWriter()
        w.writeVarint(UInt64(1 << 29) << 3)
        var r2 = WireReader(w.bytes)
        #expect(throws: ProtobufError.invalidFieldNumber(offset: 0, number: 1 << 29)) { try r2.readTag() }
    }

    @Test func groupSkipping() throws {
        // field 2 start-group, field 3 varint 1, field 2 end-group, then field 1 varint 7.
        var r = WireReader([0x13, 0x18, 0x01, 0x14, 0x08, 0x07])
        let tag = try r.readTag()
        try r.skip(tag.wireType, number: tag.number, remaining: 64, limit: 64)
        #expect(r.index == 4)
        // A group closed by another field's number.
        var bad = WireReader([0x13, 0x18, 0x01, 0x1C])
        let t = try bad.readTag()
        #expect(throws: ProtobufError.unmatchedEndGroup(offset: 3)) {
            try bad.skip(t.wireType, number: t.number, remaining: 64, limit: 64)
        }
        // Groups nested deeper than the limit.
        var deep = WireReader([UInt8](repeating: 0x13, count: 100))
        let d = try deep.readTag()
        #expect(throws: ProtobufError.depthLimitExceeded(offset: 65, limit: 64)) {
            try deep.skip(d.wireType, number: d.number, remaining: 64, limit: 64)
        }
    }
}
