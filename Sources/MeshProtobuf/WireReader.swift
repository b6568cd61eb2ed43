/// The protobuf wire types (encoding spec, "Message Structure"). 6 and 7 are undefined and rejected.
public enum WireType: UInt8, Sendable {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5
}

/// A bounded cursor over protobuf bytes. Every read checks the bound first and throws instead of trapping, so any
/// input (truncated, lying about lengths, endless varints) ends in a `ProtobufError`. Sub-messages are read with
/// `limited(to:)`, which shares the array (no copy) and narrows the end.
public struct WireReader: Sendable {
    /// The whole buffer; only `index..<end` belongs to this reader.
    public let bytes: [UInt8]
    /// The next byte to read.
    public private(set) var index: Int
    /// One past the last byte this reader may read.
    public let end: Int

    /// A reader over all of `bytes`.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.index = 0
        self.end = bytes.count
    }

    private init(bytes: [UInt8], index: Int, end: Int) {
        self.bytes = bytes
        self.index = index
        self.end = end
    }

    /// True when every byte has been read.
    public var isAtEnd: Bool { index >= end }

    /// Reads a base-128 varint of at most 10 bytes (encoding spec: a 64-bit value needs at most 10).
    /// - Throws: `.truncated` when the input ends before the last byte, `.varintTooLong` beyond 10 bytes or when
    ///   the tenth byte sets bits above bit 63.
    public mutating func readVarint() throws(ProtobufError) -> UInt64 {
        let start = index
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard index < end else { throw .truncated(offset: index) }
            let byte = bytes[index]
            index += 1
            if shift == 63 && byte > 1 { throw .varintTooLong(offset: start) }
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
            if shift > 63 { throw .varintTooLong(offset: start) }
        }
    }

    /// Reads a little-endian 32-bit value.
    public mutating func readFixed32() throws(ProtobufError) -> UInt32 {
        guard end - index >= 4 else { throw .truncated(offset: index) }
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[index + i]) << (8 * UInt32(i)) }
        index += 4
        return value
    }

    /// Reads a little-endian 64-bit value.
    public mutating func readFixed64() throws(ProtobufError) -> UInt64 {
        guard end - index >= 8 else { throw .truncated(offset: index) }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[index + i]) << (8 * UInt64(i)) }
        index += 8
        return value
    }

    /// Reads a varint length and returns the range of the payload that follows, moving past it.
    /// - Throws: `.lengthOutOfBounds` when the payload would run past this reader's end.
    public mutating func readLengthDelimited() throws(ProtobufError) -> Range<Int> {
        let at = index
        let length = try readVarint()
        guard length <= UInt64(end - index) else { throw .lengthOutOfBounds(offset: at, length: length) }
        let range = index..<(index + Int(length))
        index = range.upperBound
        return range
    }

    /// A reader over `range` (usually one `readLengthDelimited` just returned, so behind `index`), clamped to
    /// `0..<end` so that a caller's bad range cannot become an out-of-bounds read later.
    public func limited(to range: Range<Int>) -> WireReader {
        let lower = min(max(range.lowerBound, 0), end)
        let upper = min(max(range.upperBound, lower), end)
        return WireReader(bytes: bytes, index: lower, end: upper)
    }

    /// Reads a tag: field number (1...2^29-1) and wire type (0...5).
    public mutating func readTag() throws(ProtobufError) -> (number: Int32, wireType: WireType) {
        let at = index
        let key = try readVarint()
        guard let wireType = WireType(rawValue: UInt8(key & 7)) else {
            throw .invalidWireType(offset: at, wireType: UInt8(key & 7))
        }
        let number = key >> 3
        guard number >= 1 && number <= UInt64(maxFieldNumber) else {
            throw .invalidFieldNumber(offset: at, number: number)
        }
        return (Int32(number), wireType)
    }

    /// Moves past the value of a field whose tag was just read (groups included, nested up to `remaining` more
    /// levels; `limit` is only for the error), so unknown fields can be kept as raw bytes.
    public mutating func skip(
        _ wireType: WireType, number: Int32, remaining: Int, limit: Int
    ) throws(ProtobufError) {
        switch wireType {
        case .varint: _ = try readVarint()
        case .fixed64: _ = try readFixed64()
        case .fixed32: _ = try readFixed32()
        case .lengthDelimited: _ = try readLengthDelimited()
        case .endGroup: throw .unmatchedEndGroup(offset: index)
        case .startGroup:
            guard remaining > 0 else { throw .depthLimitExceeded(offset: index, limit: limit) }
            while true {
                let at = index
                let tag = try readTag()
                if tag.wireType == .endGroup {
                    guard tag.number == number else { throw .unmatchedEndGroup(offset: at) }
                    return
                }
                try skip(tag.wireType, number: tag.number, remaining: remaining - 1, limit: limit)
            }
        }
    }
}

/// The largest field number protobuf allows (2^29 - 1).
public let maxFieldNumber: Int32 = (1 << 29) - 1
