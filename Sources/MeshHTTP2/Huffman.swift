/// HPACK Huffman string coding (RFC 7541 §5.2, Appendix B).
///
/// Decoding walks a table of 256 states × 16 nibbles built once from the code (the nghttp2 approach): each state is
/// an inner node of the code tree, and a nibble can complete at most one symbol because the shortest code is 5
/// bits. That is two table lookups per input octet and no per-bit branching.
public enum Huffman {
    /// Why a Huffman string was rejected (RFC 7541 §5.2: each is a decoding error).
    public enum DecodeError: Error, Sendable, Equatable {
        /// The EOS symbol appeared inside the string.
        case eosInString
        /// The final padding is longer than 7 bits or is not the most significant bits of EOS (all ones).
        case invalidPadding
    }

    /// Octets needed to Huffman-encode `bytes`.
    public static func encodedLength(_ bytes: some Sequence<UInt8>) -> Int {
        var bits = 0
        for byte in bytes { bits += Int(HuffmanTable.lengths[Int(byte)]) }
        return (bits + 7) / 8
    }

    /// Octets `encode(_:into:)` may write for `count` input octets: 30 bits each at most, plus a word of slack.
    public static func bound(_ count: Int) -> Int { (count * 30 + 7) / 8 + 8 }

    /// The most octets `count` coded octets can decode to: the shortest code is 5 bits.
    static func decodedBound(_ count: Int) -> Int { count * 8 / 5 + 1 }

    /// Writes the Huffman encoding of raw `bytes` to `buffer` (at least `bound(bytes.count)` octets) and returns
    /// its length: one pass, 32 bits stored at a time, codes and lengths read from one packed table. (Every
    /// response head value not remembered by the encoder is coded; a length pass first, a table per field and
    /// byte-at-a-time output each showed in profiles.)
    public static func encode(_ bytes: UnsafeRawBufferPointer, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(buffer.count >= bound(bytes.count), "the buffer is shorter than the bound")
        guard let base = buffer.baseAddress, !bytes.isEmpty else { return 0 }
        let table = HuffmanTable.packed
        var at = 0
        var accumulator: UInt64 = 0
        var pending: UInt64 = 0
        for byte in bytes {
            // Masking shifts: amounts stay below 64 (a code is at most 30 bits and fewer than 32 are pending).
            let entry = table[Int(byte)]
            let length = entry & 0xFF
            accumulator = accumulator &<< length | entry &>> 8
            pending &+= length
            if pending >= 32 {
                pending &-= 32
                base.storeBytes(of: UInt32(truncatingIfNeeded: accumulator &>> pending).bigEndian, toByteOffset: at, as: UInt32.self)
                at &+= 4
            }
        }
        if pending % 8 != 0 {
            // Padded with the most significant bits of EOS: ones.
            let padding = 8 - pending % 8
            accumulator = accumulator &<< padding | (1 &<< padding &- 1)
            pending &+= padding
        }
        while pending > 0 {
            pending &-= 8
            base.storeBytes(of: UInt8(truncatingIfNeeded: accumulator &>> pending), toByteOffset: at, as: UInt8.self)
            at &+= 1
        }
        return at
    }

    /// Appends the Huffman encoding of `bytes` to `out`, padded with the high bits of EOS (ones).
    public static func encode(_ bytes: some Sequence<UInt8>, into out: inout [UInt8]) {
        var accumulator: UInt64 = 0
        var pending = 0
        for byte in bytes {
            let length = Int(HuffmanTable.lengths[Int(byte)])
            accumulator = accumulator << UInt64(length) | UInt64(HuffmanTable.codes[Int(byte)])
            pending += length
            while pending >= 8 {
                pending -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt64(pending)))
            }
        }
        if pending > 0 {
            let padding = 8 - pending
            out.append(UInt8(truncatingIfNeeded: accumulator << UInt64(padding)) | UInt8((1 << padding) - 1))
        }
    }

    /// Appends the decoding of `bytes` to `out`.
    public static func decode(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) -> DecodeError? {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: decodedBound(bytes.count)))
        let outcome = out.withUnsafeMutableBytes { decode(bytes, into: UnsafeMutableRawBufferPointer(rebasing: $0[start...])) }
        switch outcome {
        case .success(let written):
            out.removeSubrange((start + written)...)
            return nil
        case .failure(let error):
            out.removeSubrange(start...)
            return error
        }
    }

    /// Decodes into `out`, which must hold `decodedBound(bytes.count)` octets; returns the number written.
    static func decode(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Result<Int, DecodeError> {
        let table = HuffmanDecodeTable.shared
        var state = 0
        var n = 0
        // Never reached with the documented room; checked so a wrong caller fails instead of writing past `out`.
        guard out.count >= decodedBound(bytes.count) else { return .failure(.eosInString) }
        for byte in bytes {
            var entry = table.transitions[state << 4 | Int(byte >> 4)]
            if entry & HuffmanDecodeTable.failed != 0 { return .failure(.eosInString) }
            if entry & HuffmanDecodeTable.emits != 0 {
                out[n] = UInt8(truncatingIfNeeded: entry >> 8)
                n += 1
            }
            entry = table.transitions[Int(entry & 0xFF) << 4 | Int(byte & 0x0F)]
            if entry & HuffmanDecodeTable.failed != 0 { return .failure(.eosInString) }
            if entry & HuffmanDecodeTable.emits != 0 {
                out[n] = UInt8(truncatingIfNeeded: entry >> 8)
                n += 1
            }
            state = Int(entry & 0xFF)
        }
        return table.accepting[state] ? .success(n) : .failure(.invalidPadding)
    }
}

/// The decoder's state table, derived from `HuffmanTable` once per process.
struct HuffmanDecodeTable: Sendable {
    /// Entry bit: the nibble completed a symbol (in bits 8...15).
    static let emits: UInt32 = 1 << 16
    /// Entry bit: the nibble completed EOS.
    static let failed: UInt32 = 1 << 17

    static let shared = HuffmanDecodeTable()

    /// `state << 4 | nibble` → next state (bits 0...7), symbol (bits 8...15), flags.
    let transitions: [UInt32]
    /// Whether the input may end in a state: reached from the root by at most 7 one-bits (RFC 7541 §5.2 padding).
    let accepting: [Bool]

    private init() {
        // Tree of inner nodes: children[node][bit] ≥ 0 is an inner node, < 0 is leaf -(symbol + 1).
        var children: [[Int]] = [[0, 0]]
        var onesDepth: [Int] = [0]  // depth of an all-ones path from the root, or -1
        for symbol in 0...HuffmanTable.eos {
            let length = Int(HuffmanTable.lengths[symbol])
            let code = HuffmanTable.codes[symbol]
            var node = 0
            for position in stride(from: length - 1, through: 0, by: -1) {
                let bit = Int(code >> UInt32(position)) & 1
                if position == 0 {
                    children[node][bit] = -(symbol + 1)
                } else {
                    if children[node][bit] == 0 {
                        children.append([0, 0])
                        let depth = onesDepth[node] >= 0 && bit == 1 ? onesDepth[node] + 1 : -1
                        onesDepth.append(depth)
                        children[node][bit] = children.count - 1
                    }
                    node = children[node][bit]
                }
            }
        }
        var transitions = [UInt32](repeating: 0, count: children.count * 16)
        for state in 0..<children.count {
            for nibble in 0..<16 {
                transitions[state << 4 | nibble] = Self.walk(children, from: state, nibble: nibble)
            }
        }
        self.transitions = transitions
        self.accepting = onesDepth.map { $0 >= 0 && $0 <= 7 }
    }

    private static func walk(_ children: [[Int]], from state: Int, nibble: Int) -> UInt32 {
        var node = state
        var entry: UInt32 = 0
        for position in stride(from: 3, through: 0, by: -1) {
            let child = children[node][(nibble >> position) & 1]
            if child < 0 {
                let symbol = -child - 1
                if symbol == HuffmanTable.eos { return failed }
                entry = emits | UInt32(symbol) << 8
                node = 0
            } else {
                node = child
            }
        }
        return entry | UInt32(node)
    }
}
