/// One field of a message read without a descriptor: its number, wire type and where its value is. The
/// descriptor-set reader walks descriptor.proto messages this way (they are fixed, so no descriptor is needed).
struct RawField {
    let number: Int32
    let wireType: WireType
    /// The varint or fixed value (zero for length-delimited fields).
    let scalar: UInt64
    /// The payload of a length-delimited field (empty otherwise).
    let payload: WireReader

    /// The value as a bool (varint fields only; anything else is false).
    var bool: Bool { wireType == .varint && scalar != 0 }

    /// The value as an int32 (a varint truncated to 32 bits, as protobuf does).
    var int32: Int32 { Int32(truncatingIfNeeded: scalar) }

    /// The payload as UTF-8 text.
    func string() throws(ProtobufError) -> String {
        guard wireType == .lengthDelimited else { throw .malformedDescriptor("field \(number) is not a string") }
        let slice = payload.bytes[payload.index..<payload.end]
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw .invalidUTF8(field: "descriptor field \(number)")
        }
        return text
    }

    /// The payload as a nested message.
    func message() throws(ProtobufError) -> WireReader {
        guard wireType == .lengthDelimited else { throw .malformedDescriptor("field \(number) is not a message") }
        return payload
    }
}

/// All fields of one message, in wire order. Groups are skipped (descriptor.proto has none in use).
struct RawFields: Sequence {
    private(set) var fields: [RawField] = []

    /// Reads every field of `reader`.
    /// - Throws: the wire errors of `WireReader` for malformed input.
    init(_ reader: WireReader) throws(ProtobufError) {
        var r = reader
        while !r.isAtEnd {
            let tag = try r.readTag()
            let none = r.limited(to: r.index..<r.index)
            switch tag.wireType {
            case .varint:
                fields.append(
                    RawField(number: tag.number, wireType: .varint, scalar: try r.readVarint(), payload: none))
            case .fixed64:
                fields.append(
                    RawField(number: tag.number, wireType: .fixed64, scalar: try r.readFixed64(), payload: none))
            case .fixed32:
                let v = UInt64(try r.readFixed32())
                fields.append(RawField(number: tag.number, wireType: .fixed32, scalar: v, payload: none))
            case .lengthDelimited:
                let range = try r.readLengthDelimited()
                fields.append(
                    RawField(number: tag.number, wireType: .lengthDelimited, scalar: 0, payload: r.limited(to: range)))
            case .startGroup, .endGroup:
                try r.skip(tag.wireType, number: tag.number, remaining: 32, limit: 32)
            }
        }
    }

    func makeIterator() -> IndexingIterator<[RawField]> { fields.makeIterator() }
}
