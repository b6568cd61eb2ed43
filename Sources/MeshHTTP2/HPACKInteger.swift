/// HPACK integer representation (RFC 7541 §5.1): an N-bit prefix, then 7-bit groups, least significant first.
public enum HPACKInteger {
    /// The outcome of reading an integer.
    public enum Decoded: Sendable, Equatable {
        /// The value and the index just past it.
        case value(Int, next: Int)
        /// The input ends inside the integer.
        case incomplete
        /// The value does not fit in 31 bits: no HPACK quantity we accept can be that large, and refusing early
        /// keeps the shift arithmetic far from overflow (RFC 7541 §5.1 leaves the limit to the decoder).
        case overflow
    }

    /// The largest value we decode (2^31−1).
    public static let maxValue = 0x7FFF_FFFF

    /// Reads an integer whose prefix is the low `prefixBits` bits (1...8) of `buffer[index]`.
    @inlinable
    public static func decode(_ buffer: UnsafeRawBufferPointer, at index: Int, prefixBits: Int) -> Decoded {
        guard index < buffer.count else { return .incomplete }
        let mask = (1 << prefixBits) - 1
        var value = Int(buffer[index]) & mask
        var i = index + 1
        guard value == mask else { return .value(value, next: i) }
        var shift = 0
        while true {
            guard i < buffer.count else { return .incomplete }
            let byte = Int(buffer[i])
            i += 1
            value += (byte & 0x7F) << shift
            if value > maxValue { return .overflow }
            if byte & 0x80 == 0 { return .value(value, next: i) }
            shift += 7
            // Five groups hold 35 bits: anything longer is overlong padding with zero groups, refused as overflow.
            if shift > 28 { return .overflow }
        }
    }

    /// Appends `value` with an N-bit prefix; `firstByte` carries the representation's pattern bits above the prefix.
    public static func encode(_ value: Int, prefixBits: Int, firstByte: UInt8, into out: inout [UInt8]) {
        // At most a prefix octet and ten of seven bits for 64-bit values.
        withUnsafeTemporaryAllocation(byteCount: 16, alignment: 1) { raw in
            var written = HPACKOutput(raw.baseAddress!)
            encode(value, prefixBits: prefixBits, firstByte: firstByte, into: &written)
            out.append(contentsOf: written.written(from: 0))
        }
    }

    /// `encode` into the encoder's output.
    static func encode(_ value: Int, prefixBits: Int, firstByte: UInt8, into out: inout HPACKOutput) {
        let mask = (1 << prefixBits) - 1
        if value < mask {
            out.append(firstByte | UInt8(value))
            return
        }
        out.append(firstByte | UInt8(mask))
        var rest = value - mask
        while rest >= 0x80 {
            out.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
    }
}
