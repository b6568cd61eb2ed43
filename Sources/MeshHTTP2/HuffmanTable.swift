/// The HPACK Huffman code (RFC 7541 Appendix B).
///
/// The appendix's code is canonical: within a length, codes are consecutive in symbol order, and each length starts
/// where the previous one ended, shifted left. So the code lengths alone define it, and the codes are derived here
/// (the tests compare the derived codes with the appendix's hex column and check the code is complete).
enum HuffmanTable {
    /// Code length in bits of symbols 0...255 and EOS (256), copied from the appendix's `len` column.
    static let lengths: [UInt8] = [
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,  // 0x00
        28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,  // 0x10
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,  // 0x20 ' ' ... '/'
        5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,  // 0x30 '0' ... '?'
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,  // 0x40 '@' ... 'O'
        7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,  // 0x50 'P' ... '_'
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,  // 0x60 '`' ... 'o'
        6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,  // 0x70 'p' ... DEL
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,  // 0x80
        24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,  // 0x90
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,  // 0xA0
        21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,  // 0xB0
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,  // 0xC0
        19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,  // 0xD0
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,  // 0xE0
        26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,  // 0xF0
        30,  // EOS
    ]

    /// The EOS symbol (never valid inside a string, RFC 7541 §5.2).
    static let eos = 256

    /// Code (bits 8...39) and length (bits 0...7) of symbols 0...255 in one word each, for the encoder: immortal
    /// storage, read without a closure or bounds check per octet.
    nonisolated(unsafe) static let packed: UnsafePointer<UInt64> = {
        let table = UnsafeMutablePointer<UInt64>.allocate(capacity: 256)
        for symbol in 0..<256 { table[symbol] = UInt64(codes[symbol]) << 8 | UInt64(lengths[symbol]) }
        return UnsafePointer(table)
    }()

    /// Codes right-aligned (the appendix's "as hex, aligned to LSB" column), derived canonically from `lengths`.
    static let codes: [UInt32] = {
        var codes = [UInt32](repeating: 0, count: 257)
        var code: UInt32 = 0
        for length in 1...30 {
            for symbol in 0..<257 where Int(lengths[symbol]) == length {
                codes[symbol] = code
                code += 1
            }
            code <<= 1
        }
        return codes
    }()
}
