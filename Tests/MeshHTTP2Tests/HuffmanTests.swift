import Testing

@testable import MeshHTTP2

/// RFC 7541 Appendix C strings and their Huffman encodings.
let huffmanExamples: [(String, String)] = [
    ("www.example.com", "f1e3 c2e5 f23a 6ba0 ab90 f4ff"),
    ("no-cache", "a8eb 1064 9cbf"),
    ("custom-key", "25a8 49e9 5ba9 7d7f"),
    ("custom-value", "25a8 49e9 5bb8 e8b4 bf"),
    ("302", "6402"),
    ("private", "aec3 771a 4b"),
    ("Mon, 21 Oct 2013 20:13:21 GMT", "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff"),
    ("https://www.example.com", "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3"),
    ("gzip", "9bd9 ab"),
    (
        "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
        "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07"
    ),
]

@Test("Huffman encode and decode of the Appendix C strings")
func huffmanAppendixC() {
    for (text, encoded) in huffmanExamples {
        var out: [UInt8] = []
        Huffman.encode(Array(text.utf8), into: &out)
        #expect(hexString(out) == hexString(hex(encoded)), "\(text)")
        #expect(Huffman.encodedLength(Array(text.utf8)) == out.count)
        var decoded: [UInt8] = []
        let error = hex(encoded).withUnsafeBytes { Huffman.decode($0, into: &decoded) }
        #expect(error == nil)
        #expect(String(decoding: decoded, as: UTF8.self) == text)
    }
}

/// Codes from the appendix's hex column, one or more per code length, including the longest ones.
@Test("derived canonical codes match RFC 7541 Appendix B")
func huffmanCodeSpots() {
    let spots: [(Int, UInt32, UInt8)] = [
        (0, 0x1ff8, 13), (1, 0x7fffd8, 23), (2, 0xfffffe2, 28), (9, 0xffffea, 24), (10, 0x3ffffffc, 30),
        (13, 0x3ffffffd, 30), (22, 0x3ffffffe, 30), (32, 0x14, 6), (33, 0x3f8, 10), (35, 0xffa, 12),
        (39, 0x7fa, 11), (48, 0x0, 5), (58, 0x5c, 7), (60, 0x7ffc, 15), (92, 0x7fff0, 19), (94, 0x3ffc, 14),
        (116, 0x9, 5), (122, 0x7b, 7), (127, 0xffffffc, 28), (128, 0xfffe6, 20), (153, 0x1fffdc, 21),
        (192, 0x3ffffe0, 26), (199, 0x1ffffec, 25), (203, 0x7ffffde, 27), (220, 0xffffffd, 28),
        (249, 0xffffffe, 28), (254, 0x7fffff0, 27), (255, 0x3ffffee, 26), (256, 0x3fffffff, 30),
    ]
    for (symbol, code, length) in spots {
        #expect(HuffmanTable.codes[symbol] == code, "symbol \(symbol)")
        #expect(HuffmanTable.lengths[symbol] == length, "symbol \(symbol)")
    }
}

@Test("the code is complete: Kraft sum of the 257 lengths is exactly 1")
func huffmanKraft() {
    var sum: UInt64 = 0
    for length in HuffmanTable.lengths { sum += 1 << (30 - UInt64(length)) }
    #expect(sum == 1 << 30)
}

@Test("every byte value round-trips, alone and in a mixed string")
func huffmanRoundTrip() {
    var all: [UInt8] = []
    for byte in 0...255 {
        let one = [UInt8(byte)]
        var encoded: [UInt8] = []
        Huffman.encode(one, into: &encoded)
        var decoded: [UInt8] = []
        #expect(encoded.withUnsafeBytes { Huffman.decode($0, into: &decoded) } == nil)
        #expect(decoded == one, "byte \(byte)")
        all.append(UInt8((byte * 37) & 0xFF))
    }
    var encoded: [UInt8] = []
    Huffman.encode(all, into: &encoded)
    var decoded: [UInt8] = []
    #expect(encoded.withUnsafeBytes { Huffman.decode($0, into: &decoded) } == nil)
    #expect(decoded == all)
}

@Test("the pointer encoder appends what the sequence encoder does, after bytes already in the output")
func huffmanPointerEncoder() {
    var random = SystemRandomNumberGenerator()
    var inputs = huffmanExamples.map { Array($0.0.utf8) }
    for length in [0, 1, 2, 7, 8, 31, 64, 300] {
        inputs.append((0..<length).map { _ in UInt8.random(in: 0...255, using: &random) })
    }
    for input in inputs {
        var expected: [UInt8] = [0xAB]
        Huffman.encode(input, into: &expected)
        var out: [UInt8] = [0xAB]
        input.withUnsafeBytes { bytes in
            var buffer = [UInt8](repeating: 0, count: Huffman.bound(bytes.count))
            let count = buffer.withUnsafeMutableBytes { Huffman.encode(bytes, into: $0) }
            #expect(count == Huffman.encodedLength(bytes), "\(input)")
            out += buffer[..<count]
        }
        #expect(out == expected, "\(input)")
    }
}
